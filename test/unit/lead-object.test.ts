import { describe, expect, it } from 'vitest';
import { neutralizeCell } from '../../services/lib/lead-object.ts';

describe('CSV formula neutralisation', () => {
  it.each([
    ['=HYPERLINK("http://evil","x")', `'=HYPERLINK("http://evil","x")`],
    ['+1-202-555-0199', `'+1-202-555-0199`],
    ['-2+3', `'-2+3`],
    ['@SUM(A1)', `'@SUM(A1)`],
    ['\tcmd', `'\tcmd`],
    ['\rcmd', `'\rcmd`],
  ])('neutralises %j', (input, expected) => {
    expect(neutralizeCell(input)).toBe(expected);
  });

  it.each(['Sarah Miller', 'sarah@techflow.com', '98.5', '', "O'Brien", 'a=b'])('keeps %j as is', (input) => {
    expect(neutralizeCell(input)).toBe(input);
  });
});
