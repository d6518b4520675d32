import { Args, Int, Resolver, Subscription } from '@nestjs/graphql';
import { AuthUser } from '../auth/auth-user';
import { CurrentUser } from './current-user.decorator';
import { DataFeeds } from './data-feeds.service';
import { EntryFeed } from './entry-feed';
import { DataEntryModel } from './models/data-entry.model';
import { DataEntryView } from './views';

@Resolver(() => DataEntryModel)
export class DataResolver {
  constructor(private readonly feeds: DataFeeds) {}

  @Subscription(() => DataEntryModel, {
    name: 'data',
    description:
      'Entries of the streams, in id order per stream, from after `lastEntryId` (default `$`: new ones). ' +
      "A single id with `*` is a glob over the device's streams, new streams included.",
    resolve: (entry: DataEntryView) => entry,
  })
  data(
    @CurrentUser() user: AuthUser,
    @Args('streamIds', { type: () => [String] }) streamIds: string[],
    @Args('deviceId', { type: () => String, nullable: true, defaultValue: 'default' }) deviceId: string | null,
    @Args('lastEntryId', {
      type: () => String,
      nullable: true,
      description: '`$`, `0`, an entry id, a ms time or ISO-8601; one for all or one per stream joined by `+`.',
    })
    lastEntryId: string | null,
    @Args('count', { type: () => Int, defaultValue: 1, description: 'Entries read per stream at a time (1-10000).' })
    count: number,
    @Args('latest', { defaultValue: false, description: 'Skip to the newest `count` entries (frame dropping).' })
    latest: boolean,
  ): Promise<EntryFeed<DataEntryView>> {
    return this.feeds.open(user, { deviceId, streamIds, lastEntryId, count, latest });
  }
}
