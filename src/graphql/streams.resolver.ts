import { Args, Context, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthUser } from '../auth/auth-user';
import { StreamKeys } from '../streams/stream-keys.service';
import { StreamManager } from '../streams/stream-manager.service';
import { CurrentUser } from './current-user.decorator';
import { StreamModel } from './models/stream.model';
import { JSONScalar } from './scalars';
import { StreamDirectory } from './stream-directory.service';
import { StreamView } from './views';

const DEVICE_ARG = {
  type: () => String,
  nullable: true,
  description: 'List and name streams of this device; absent: raw Redis keys.',
};

@Resolver(() => StreamModel)
export class StreamsResolver {
  constructor(
    private readonly directory: StreamDirectory,
    private readonly keys: StreamKeys,
    private readonly manager: StreamManager,
  ) {}

  @Query(() => [StreamModel], {
    description: 'Streams readable by the caller: those named by `ids`, or all matching `match`.',
  })
  async streams(
    @CurrentUser() user: AuthUser,
    @Context() request: object,
    @Args('ids', { type: () => [String], nullable: true }) ids: string[] | null,
    @Args('match', { type: () => String, nullable: true, description: 'Glob where `*` matches any run of characters.' })
    match: string | null,
    @Args('deviceId', DEVICE_ARG) deviceId: string | null,
  ): Promise<StreamView[]> {
    const scope = this.directory.scope(deviceId);
    const keys = ids
      ? ids.map((id) => this.directory.key(user, scope, id))
      : await this.directory.list(user, scope, match);
    return this.directory.views(request, scope, keys);
  }

  @Query(() => StreamModel, { nullable: true, description: 'One stream (NOT_FOUND without data or metadata).' })
  async stream(
    @CurrentUser() user: AuthUser,
    @Context() request: object,
    @Args('id') id: string,
    @Args('deviceId', DEVICE_ARG) deviceId: string | null,
  ): Promise<StreamView> {
    const scope = this.directory.scope(deviceId);
    return this.directory.view(request, scope, this.directory.key(user, scope, id));
  }

  @Query(() => [String], { description: 'Ids of the streams `streams` would list.' })
  async streamIds(
    @CurrentUser() user: AuthUser,
    @Args('match', { type: () => String, nullable: true }) match: string | null,
    @Args('deviceId', DEVICE_ARG) deviceId: string | null,
  ): Promise<string[]> {
    const scope = this.directory.scope(deviceId);
    return (await this.directory.list(user, scope, match)).map((key) => this.directory.name(key, scope).id);
  }

  @Mutation(() => JSONScalar, {
    description:
      "Sets a stream's metadata: replaces it, or with `update: true` merges into it. Needs write permission.",
  })
  async updateStreamMeta(
    @CurrentUser() user: AuthUser,
    @Args('streamId') streamId: string,
    @Args('meta', { type: () => JSONScalar }) meta: unknown,
    @Args('deviceId', { defaultValue: 'default' }) deviceId: string,
    @Args('update', { defaultValue: false }) update: boolean,
  ): Promise<object> {
    const stored = await this.manager.updateMeta(user, this.keys.device(deviceId), streamId, meta, !update);
    return { meta_set: true, meta: stored };
  }

  @Mutation(() => JSONScalar, { description: "Deletes a stream's data and metadata (admin)." })
  async deleteStream(
    @CurrentUser() user: AuthUser,
    @Args('streamId') streamId: string,
    @Args('deviceId', { defaultValue: 'default' }) deviceId: string,
  ): Promise<object> {
    await this.manager.delete(user, this.keys.device(deviceId), streamId);
    return { deleted: true };
  }
}
