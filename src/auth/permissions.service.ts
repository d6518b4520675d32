import { Injectable } from '@nestjs/common';
import { AuthUser } from './auth-user';

/** Stream permissions: read/write globs over data keys (`{device}:{stream}`), and the admin role. */
@Injectable()
export class PermissionsService {
  canRead(user: AuthUser, key: string): boolean {
    return user.read.some((p) => p.test(key));
  }

  canWrite(user: AuthUser, key: string): boolean {
    return user.write.some((p) => p.test(key));
  }

  isAdmin(user: AuthUser): boolean {
    return user.admin;
  }
}
