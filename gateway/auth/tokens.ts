import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

export interface TokenClaims {
  userId: string;
  accountId: string;
  jti: string;
}

const ALG = 'HS256';
const ISSUER = 'leedrush';

export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  sign(userId: string, accountId: string): Promise<string> {
    return new SignJWT({ acc: accountId })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /**
   * Only HS256 is accepted: `alg: none`, RS/ES algorithms (key-confusion attacks) and tampered tokens
   * all fail here. Returns null for any invalid token; the caller answers 401.
   */
  async verify(token: string): Promise<TokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALG],
        issuer: ISSUER,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'acc'],
      });
      if (typeof payload.acc !== 'string' || !payload.sub || !payload.jti) return null;
      return { userId: payload.sub, accountId: payload.acc, jti: payload.jti };
    } catch (err) {
      if (err instanceof errors.JOSEError) return null;
      throw err;
    }
  }
}
