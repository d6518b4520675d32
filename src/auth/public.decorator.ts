import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'redis-streamer:public';

/** Opts a route out of the global JWT guard. Only `/token` and `/health` use it. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

export const PUBLIC_WHEN = 'redis-streamer:public-when';

/** Public only when the named boolean setting is true (e.g. METRICS_PUBLIC). */
export const PublicWhen = (setting: 'METRICS_PUBLIC'): MethodDecorator => SetMetadata(PUBLIC_WHEN, setting);
