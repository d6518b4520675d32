import { Global, Module } from '@nestjs/common';
import { UpgradeRouter } from './upgrade-router';

/** Pieces shared by every transport. */
@Global()
@Module({ providers: [UpgradeRouter], exports: [UpgradeRouter] })
export class CommonModule {}
