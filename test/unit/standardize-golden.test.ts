import { parsePhoneNumber } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { formatPhoneForDisplay } from '../../services/lib/phone-display.ts';
import { standardizeCompany } from '../../services/standardize/company.ts';
import { standardizeCountry } from '../../services/standardize/country.ts';
import { companyDomain } from '../../services/standardize/domain.ts';
import { standardizeEmail } from '../../services/standardize/email.ts';
import { standardizeName } from '../../services/standardize/name.ts';
import { standardizePhone } from '../../services/standardize/phone.ts';
import { standardizeTitle } from '../../services/standardize/title.ts';
import { readGolden } from './standardize-golden.ts';

/** One test per row of a golden table (named by its line and input), plus its minimum size. */
function goldenTable<C extends string>(
  file: string,
  columns: readonly C[],
  minimum: number,
  input: (row: Record<C, string | null>) => unknown,
  check: (row: Record<C, string | null>) => void,
) {
  const rows = readGolden(file, columns);
  describe(file, () => {
    it(`has at least ${minimum} cases`, () => expect(rows.length).toBeGreaterThanOrEqual(minimum));
    it.each(rows.map(({ line, row }) => [`line ${line}: ${JSON.stringify(input(row))}`, row] as const))(
      '%s',
      (_, row) => check(row),
    );
  });
  return rows;
}

goldenTable(
  'names.tsv',
  ['in_first', 'in_last', 'in_full', 'first_name', 'last_name', 'full_name', 'honorific', 'name_suffix'],
  200,
  (row) => [row.in_first, row.in_last, row.in_full],
  (row) =>
    expect(
      standardizeName({ first_name: row.in_first, last_name: row.in_last, full_name: row.in_full }),
    ).toEqual({
      first_name: row.first_name,
      last_name: row.last_name,
      full_name: row.full_name,
      honorific: row.honorific,
      name_suffix: row.name_suffix,
    }),
);

goldenTable(
  'titles.tsv',
  ['input', 'title_normalized', 'seniority', 'department'],
  200,
  (row) => row.input,
  (row) =>
    expect(standardizeTitle(row.input)).toEqual(
      row.title_normalized === null
        ? null
        : { normalized: row.title_normalized, seniority: row.seniority, department: row.department },
    ),
);

goldenTable(
  'companies.tsv',
  ['input', 'company_name', 'company_key'],
  200,
  (row) => row.input,
  (row) =>
    expect(standardizeCompany(row.input)).toEqual(
      row.company_name === null ? null : { name: row.company_name, key: row.company_key },
    ),
);

goldenTable(
  'emails-std.tsv',
  ['input', 'email', 'email_display'],
  100,
  (row) => row.input,
  (row) =>
    expect(standardizeEmail(row.input)).toEqual(
      row.email === null ? null : { email: row.email, display: row.email_display },
    ),
);

const phones = goldenTable(
  'phones-std.tsv',
  ['input', 'region', 'phone_e164', 'display'],
  100,
  (row) => [row.input, row.region],
  (row) => {
    const got = standardizePhone(row.input, row.region);
    expect(got?.e164 ?? null).toBe(row.phone_e164);
    if (got?.e164) expect(formatPhoneForDisplay(got.e164, got.extension)).toBe(row.display);
    // The input is kept, parsed or not.
    if (row.input !== null) expect(got?.raw).toBeTruthy();
  },
);

it('the phone table covers at least 12 countries', () => {
  const countries = new Set(
    phones.map(({ row }) => (row.phone_e164 === null ? null : parsePhoneNumber(row.phone_e164).country)),
  );
  expect(countries.size).toBeGreaterThanOrEqual(12);
});

goldenTable(
  'countries.tsv',
  ['input', 'country'],
  150,
  (row) => row.input,
  (row) => expect(standardizeCountry(row.input)).toBe(row.country),
);

goldenTable(
  'domains.tsv',
  ['website', 'email', 'domain'],
  60,
  (row) => [row.website, row.email],
  (row) => expect(companyDomain(row.website, standardizeEmail(row.email)?.email ?? null)).toBe(row.domain),
);
