import { describe, expect, it } from 'vitest';
import { isFreeEmailDomain } from '../../services/lib/free-email-providers.ts';

describe('isFreeEmailDomain', () => {
  it('knows the big consumer providers and the ones added to the package list', () => {
    for (const domain of [
      'gmail.com',
      'outlook.com',
      'icloud.com',
      'gmx.de',
      'web.de',
      'qq.com',
      '163.com',
    ]) {
      expect(isFreeEmailDomain(domain), domain).toBe(true);
    }
    for (const domain of [
      'mail.ru',
      'yandex.ru',
      'proton.me',
      'tuta.io',
      'fastmail.com',
      'gmx.ch',
      'zohomail.com',
    ]) {
      expect(isFreeEmailDomain(domain), domain).toBe(true);
    }
  });

  it('covers every country variant of brands that give out mailboxes under many suffixes', () => {
    for (const domain of [
      'yahoo.co.jp',
      'yahoo.com.br',
      'yahoo.fr',
      'hotmail.it',
      'live.nl',
      'outlook.com.au',
    ]) {
      expect(isFreeEmailDomain(domain), domain).toBe(true);
    }
  });

  it('accepts any case, a trailing dot and sub-domains of a provider', () => {
    expect(isFreeEmailDomain('GMAIL.COM')).toBe(true);
    expect(isFreeEmailDomain('gmail.com.')).toBe(true);
    expect(isFreeEmailDomain('mail.yahoo.com')).toBe(true);
  });

  it('does not flag company domains, including ones that merely contain a brand word', () => {
    for (const domain of [
      'acme.com',
      'microsoft.com',
      'livenation.com',
      'yahoo-finance-partners.com',
      'gmx-labs.io',
    ]) {
      expect(isFreeEmailDomain(domain), domain).toBe(false);
    }
    expect(isFreeEmailDomain('localhost')).toBe(false);
  });
});
