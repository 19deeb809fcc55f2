import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';

export interface TokenClaims {
  userId: string;
  accountId: string;
  jti: string;
}

const ALG = 'HS256';
const ISSUER = 'leedrush';

export class TokenService {
  private readonly key: Uint8Array;
  /**
   * Tokens already verified, by their exact text, each kept no longer than its `exp`: a client sends
   * the same token on every request, and an HMAC check plus claim parsing per request is a large part
   * of the gateway's CPU. Only an identical string hits, so a changed signature or claim is verified
   * afresh. Failures are not kept.
   */
  private readonly verified: LRUCache<string, TokenClaims>;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
    cacheSize = 10_000,
  ) {
    this.key = new TextEncoder().encode(secret);
    this.verified = new LRUCache({ max: cacheSize });
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
    const known = this.verified.get(token);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALG],
        issuer: ISSUER,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'acc'],
      });
      if (typeof payload.acc !== 'string' || !payload.sub || !payload.jti || !payload.exp) return null;
      const claims = { userId: payload.sub, accountId: payload.acc, jti: payload.jti };
      const validMs = payload.exp * 1000 - Date.now();
      if (validMs > 0) this.verified.set(token, claims, { ttl: validMs });
      return claims;
    } catch (err) {
      if (err instanceof errors.JOSEError) return null;
      throw err;
    }
  }
}
