import { describe, expect, it } from 'vitest';
import { standardizeLinkedin } from '../../services/standardize/linkedin.ts';

describe('standardizeLinkedin', () => {
  it.each([
    ['https://www.linkedin.com/in/sarah-miller-1a2b3c', 'https://www.linkedin.com/in/sarah-miller-1a2b3c'],
    ['linkedin.com/in/Sarah-Miller-1A2B3C/', 'https://www.linkedin.com/in/sarah-miller-1a2b3c'],
    ['http://uk.linkedin.com/in/jsmith?trk=profile', 'https://www.linkedin.com/in/jsmith'],
    [
      'https://de.linkedin.com/in/max-mustermann/details/experience/',
      'https://www.linkedin.com/in/max-mustermann',
    ],
    ['www.linkedin.com/company/acme-corp/about/', 'https://www.linkedin.com/company/acme-corp'],
    ['  HTTPS://WWW.LINKEDIN.COM/IN/JDOE#top ', 'https://www.linkedin.com/in/jdoe'],
    [
      'https://www.linkedin.com/school/stanford-university/',
      'https://www.linkedin.com/school/stanford-university',
    ],
  ])('%s → %s', (input, expected) => expect(standardizeLinkedin(input)).toBe(expected));

  it('keeps what is not a LinkedIn profile or company page as cleaned text', () => {
    expect(standardizeLinkedin('https://twitter.com/jdoe')).toBe('https://twitter.com/jdoe');
    expect(standardizeLinkedin('https://www.linkedin.com/feed/')).toBe('https://www.linkedin.com/feed/');
    expect(standardizeLinkedin('https://notlinkedin.com/in/x')).toBe('https://notlinkedin.com/in/x');
    expect(standardizeLinkedin('jdoe on linkedin')).toBe('jdoe on linkedin');
    expect(standardizeLinkedin('N/A')).toBeNull();
    expect(standardizeLinkedin(null)).toBeNull();
  });

  it('is idempotent', () => {
    const once = standardizeLinkedin('uk.linkedin.com/in/J-Smith?x=1');
    expect(standardizeLinkedin(once)).toBe(once);
  });
});
