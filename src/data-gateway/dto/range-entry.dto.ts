import { ApiProperty } from '@nestjs/swagger';

/** One entry of a JSON range read. */
export class RangeEntryDto {
  @ApiProperty({ example: '1675000000000-0' })
  id: string;

  @ApiProperty({ example: '2023-01-29T13:46:40.000Z', nullable: true, description: 'ISO-8601 UTC of the id' })
  time: string | null;

  @ApiProperty({ example: 'aGVsbG8=', description: 'The payload, base64' })
  data: string;
}
