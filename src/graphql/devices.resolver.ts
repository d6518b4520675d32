import { Args, Context, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AuthUser } from '../auth/auth-user';
import { DeviceMeta, DevicesService } from '../devices/devices.service';
import { StreamError } from '../streams/stream-error';
import { StreamKeys } from '../streams/stream-keys.service';
import { RequestBatchers } from './batcher';
import { CurrentUser } from './current-user.decorator';
import { jsonObject } from './json-object';
import { DeviceModel } from './models/device.model';
import { StreamModel } from './models/stream.model';
import { JSONScalar } from './scalars';
import { StreamDirectory } from './stream-directory.service';
import { StreamView } from './views';

@Resolver(() => DeviceModel)
export class DevicesResolver {
  private readonly metas: RequestBatchers<DeviceMeta | null>;
  private readonly connectedFlags: RequestBatchers<boolean>;

  constructor(
    private readonly registry: DevicesService,
    private readonly directory: StreamDirectory,
    private readonly keys: StreamKeys,
  ) {
    this.metas = new RequestBatchers((ids) => this.registry.meta(ids));
    this.connectedFlags = new RequestBatchers((ids) => this.registry.isConnected(ids));
  }

  @Query(() => [DeviceModel], {
    description: 'Connected devices, every device ever seen with `includeAll`, or those named by `ids`.',
  })
  async devices(
    @CurrentUser() user: AuthUser,
    @Args('ids', { type: () => [String], nullable: true }) ids: string[] | null,
    @Args('includeAll', { defaultValue: false }) includeAll: boolean,
  ): Promise<DeviceModel[]> {
    if (ids) {
      const named = ids.map((id) => this.keys.device(id));
      const visible = new Set(await this.registry.visible(user, named));
      const hidden = named.find((id) => !visible.has(id));
      if (hidden !== undefined) throw new StreamError('FORBIDDEN', `no read permission for device ${hidden}`);
      return named.map((id) => ({ id }));
    }
    const listed = await this.registry.list(includeAll);
    return (await this.registry.visible(user, listed)).map((id) => ({ id }));
  }

  @Query(() => DeviceModel, { nullable: true })
  async device(
    @CurrentUser() user: AuthUser,
    @Args('id', { defaultValue: 'default' }) id: string,
  ): Promise<DeviceModel> {
    const device = this.keys.device(id);
    await this.registry.assertVisible(user, device);
    return { id: device };
  }

  @ResolveField(() => JSONScalar, { description: 'Device metadata ({} when none is set).' })
  async meta(@Parent() device: DeviceModel, @Context() request: object): Promise<DeviceMeta> {
    return (await this.metas.for(request).load(device.id)) ?? {};
  }

  @ResolveField(() => Boolean, { description: 'Whether the device is in the connected set.' })
  async connected(@Parent() device: DeviceModel, @Context() request: object): Promise<boolean> {
    return this.connectedFlags.for(request).load(device.id);
  }

  @ResolveField(() => [String], { description: 'Ids (without the device prefix) of its readable streams.' })
  async streamIds(
    @Parent() device: DeviceModel,
    @CurrentUser() user: AuthUser,
    @Args('match', { type: () => String, nullable: true }) match: string | null,
  ): Promise<string[]> {
    const scope = { device: device.id };
    return (await this.directory.list(user, scope, match)).map((key) => this.directory.name(key, scope).id);
  }

  @ResolveField(() => [StreamModel], { description: 'Its readable streams, with stream info and metadata.' })
  async streams(
    @Parent() device: DeviceModel,
    @CurrentUser() user: AuthUser,
    @Context() request: object,
    @Args('match', { type: () => String, nullable: true }) match: string | null,
  ): Promise<StreamView[]> {
    const scope = { device: device.id };
    return this.directory.views(request, scope, await this.directory.list(user, scope, match));
  }

  @ResolveField(() => StreamModel, { nullable: true })
  async stream(
    @Parent() device: DeviceModel,
    @CurrentUser() user: AuthUser,
    @Context() request: object,
    @Args('streamId') streamId: string,
  ): Promise<StreamView> {
    const scope = { device: device.id };
    return this.directory.view(request, scope, this.directory.key(user, scope, streamId));
  }

  @Mutation(() => JSONScalar, {
    description: 'Marks a device connected; `meta` replaces its metadata. Appends to :event:device.connected.',
  })
  async connectDevice(
    @CurrentUser() user: AuthUser,
    @Args('deviceId') deviceId: string,
    @Args('meta', { type: () => JSONScalar, nullable: true }) meta: unknown,
  ): Promise<object> {
    const device = this.manageable(user, deviceId);
    return this.registry.connect(device, meta == null ? undefined : jsonObject(meta, 'meta'));
  }

  @Mutation(() => JSONScalar, { description: 'Removes a device from the connected set (it stays seen).' })
  async disconnectDevice(@CurrentUser() user: AuthUser, @Args('deviceId') deviceId: string): Promise<object> {
    return this.registry.disconnect(this.manageable(user, deviceId));
  }

  @Mutation(() => JSONScalar, {
    description: 'Sets device metadata: replaces it, or with `update: true` merges into it.',
  })
  async updateDeviceMeta(
    @CurrentUser() user: AuthUser,
    @Args('deviceId') deviceId: string,
    @Args('meta', { type: () => JSONScalar }) meta: unknown,
    @Args('update', { defaultValue: false }) update: boolean,
  ): Promise<object> {
    return this.registry.setMeta(this.manageable(user, deviceId), jsonObject(meta, 'meta'), update);
  }

  private manageable(user: AuthUser, deviceId: string): string {
    const device = this.keys.device(deviceId);
    this.registry.assertManage(user, device);
    return device;
  }
}
