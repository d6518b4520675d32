import { Body, Controller, HttpCode, Post, UnauthorizedException, UseGuards } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import {
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorDto, TokenRequestDto, TokenResponseDto } from './dto/token.dto';
import { Public } from './public.decorator';
import { TokenService } from './token.service';
import { UsersService } from './users.service';

@ApiTags('auth')
@Controller('token')
export class TokenController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenService,
  ) {}

  @Public()
  @Post()
  @HttpCode(200)
  @UseGuards(ThrottlerGuard)
  @ApiOperation({ summary: 'Exchange a username and password for a bearer token' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'Incorrect username or password' })
  @ApiTooManyRequestsResponse({ type: ErrorDto, description: 'More than AUTH_RATE_LIMIT attempts a minute' })
  async token(@Body() body: TokenRequestDto): Promise<TokenResponseDto> {
    const user = await this.users.verify(body.username, body.password);
    if (!user) throw new UnauthorizedException('Incorrect username or password');
    return { access_token: this.tokens.issue(user), token_type: 'bearer', expires_in: this.tokens.expiresIn };
  }
}
