import type { WebSocket } from 'ws';
import { isEntryId } from '../redis/entry-id';
import { ConsumerGroups, GroupMember, GroupOptions } from '../streams/consumer-groups.service';
import { CodecError } from './push-codec';
import { MessageSender } from './message-sender';
import { closeFor, closeWith, CLOSE } from './ws-close';

/**
 * One consumer-group socket (PROTOCOL §8): first the consumer's own pending entries again, then new
 * ones from the group. The client acknowledges with text frames of comma-joined ids; ids that were
 * not pending are reported back in a notice `{"error": "not pending", "ids": [...]}`.
 */
export class GroupSession {
  private member?: GroupMember;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly keys: string[],
    private readonly options: GroupOptions,
    private readonly groups: ConsumerGroups,
    private readonly sender: MessageSender,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => void this.onAck(data, isBinary));
    ws.once('close', () => {
      this.closed = true;
      this.member?.leave();
    });
  }

  async run(): Promise<void> {
    try {
      if (this.options.ackMode === 'manual') await this.replay();
      if (this.closed) return;
      const sender = this.sender;
      this.member = this.groups.join(this.keys, this.options, {
        deliver: (entries) => sender.send(entries),
        get congested() {
          return sender.congested;
        },
        drained: () => sender.drained(),
      });
    } catch (err) {
      this.fail(err);
    }
  }

  /** Re-sends this consumer's pending entries, page by page, before any new one. */
  private async replay(): Promise<void> {
    const after = this.keys.map(() => '0-0');
    for (;;) {
      await this.sender.drained();
      if (this.closed) return;
      const entries = await this.groups.pendingPage(this.keys, this.options, after);
      if (entries === false) return;
      if (entries.length > 0) this.sender.send(entries);
    }
  }

  private async onAck(data: Buffer, isBinary: boolean): Promise<void> {
    if (this.closed) return;
    try {
      if (isBinary) throw new CodecError('BAD_HEADER', 'acknowledge with a text frame of comma-joined ids');
      const ids = data
        .toString('utf8')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (ids.length === 0 || ids.length > 10000 || !ids.every(isEntryId)) {
        throw new CodecError('BAD_HEADER', 'an ack is a text frame of comma-joined entry ids');
      }
      const unknown = await this.groups.ack(this.keys, this.options.group, ids);
      if (unknown.length > 0 && !this.closed) this.sender.notice({ error: 'not pending', ids: unknown });
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    const { code, reason } = closeFor(err);
    closeWith(this.ws, code, reason);
  }

  shutdown(): void {
    if (!this.closed) closeWith(this.ws, CLOSE.GOING_AWAY, 'server shutting down');
  }
}
