/** The RawLead columns a header can map to (schemas/RawLead.avsc). */
export const LEAD_FIELDS = [
  'email',
  'first_name',
  'last_name',
  'full_name',
  'title',
  'company',
  'website',
  'phone',
  'country',
  'city',
  'linkedin_url',
  'industry',
  'employees',
] as const;
export type LeadField = (typeof LEAD_FIELDS)[number];

/**
 * Header spellings seen in CRM, sales-intelligence and spreadsheet exports (English first, then the
 * French, German, Spanish, Italian, Portuguese and Dutch ones), written already normalised: see
 * `normalizeHeader`.
 */
const ALIASES: Record<LeadField, string> = {
  email:
    'email emailaddress emails mail emailid workemail businessemail companyemail ' +
    'corporateemail officeemail primaryemail contactemail personemail leademail emailwork ' +
    'courriel adresseemail adressemail correo correoelectronico emailadresse mailadresse ' +
    'indirizzoemail posta postaelettronica emailadres',
  first_name:
    'firstname first fname givenname forename contactfirstname leadfirstname personfirstname ' +
    'prenom vorname nombre nome voornaam',
  last_name:
    'lastname last lname surname familyname contactlastname leadlastname personlastname nom ' +
    'nomdefamille nachname familienname apellido apellidos cognome sobrenome achternaam',
  full_name:
    'fullname name contactname contact leadname personname displayname contactfullname ' +
    'nomcomplet vollstandigername nombrecompleto nomecompleto',
  title:
    'title jobtitle position role jobrole designation jobposition occupation contacttitle ' +
    'persontitle titre poste fonction titel berufsbezeichnung cargo puesto ruolo qualifica ' +
    'functie',
  company:
    'company companyname organization organisation organizationname organisationname org ' +
    'account accountname employer business businessname firm companyorganization ' +
    'currentcompany entreprise societe firma unternehmen empresa azienda bedrijf',
  website:
    'website web url companyurl companywebsite websiteurl homepage site siteweb domain ' +
    'companydomain webaddress www websitedomain emaildomain webseite sitioweb',
  phone:
    'phone phonenumber phoneno tel telephone telephonenumber mobile mobilephone mobilenumber ' +
    'cell cellphone cellnumber directdial directphone directline workphone businessphone ' +
    'officephone contactphone primaryphone telefon telefono telefone telefonnummer portable ' +
    'handy mobil cellulare movil',
  country:
    'country countrycode countryname nation countryregion hqcountry companycountry ' +
    'personcountry pays land pais paese',
  city: 'city town locality hqcity companycity personcity ville stadt ort ciudad citta cidade',
  linkedin_url: 'linkedin linkedinurl linkedinprofile linkedinprofileurl linkedinlink li liurl',
  industry: 'industry sector vertical companyindustry branche industrie secteur industria settore',
  employees:
    'employees employeecount numberofemployees noofemployees numemployees nbemployees ' +
    'companysize headcount size staff staffcount employeesize employeerange employeescount ' +
    'companyemployees estimatednumemployees mitarbeiter mitarbeiterzahl effectif empleados ' +
    'dipendenti funcionarios werknemers',
};

const EXACT = new Map<string, LeadField>();
for (const field of LEAD_FIELDS) {
  for (const alias of ALIASES[field].split(' ')) if (!EXACT.has(alias)) EXACT.set(alias, field);
}

/**
 * Spellings the table cannot list: any qualifier before "email"/"phone" and a trailing number
 * ("Secondary E-mail 2", "HQ Phone"), and every LinkedIn column. Anchored, so "Email Opt Out" or
 * "Phone Type" stay unmapped.
 */
const PATTERNS: ReadonlyArray<[RegExp, LeadField]> = [
  [/^[a-z]*email(?:address)?\d*$/, 'email'],
  [/^[a-z]*(?:phone|mobile)(?:number|no)?\d*$/, 'phone'],
  [/linkedin/, 'linkedin_url'],
];

/** Case, accents, spaces and punctuation do not matter: "E-mail Address " → "emailaddress". */
export function normalizeHeader(header: string): string {
  return header
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/** The RawLead column a header means, or null when it is not one of them (it goes to extras). */
export function leadFieldFor(header: string): LeadField | null {
  const key = normalizeHeader(header);
  if (key === '') return null;
  const exact = EXACT.get(key);
  if (exact) return exact;
  for (const [pattern, field] of PATTERNS) if (pattern.test(key)) return field;
  return null;
}
