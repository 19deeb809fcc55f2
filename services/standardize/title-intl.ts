/**
 * Job-title words of the languages leads arrive in (German, French, Spanish, Italian, Dutch, Portuguese),
 * mapped to the English words title.ts reads, so "Geschäftsführer" is a managing director and "Jefe de
 * Ventas" a head of sales. Keys are folded (lower-case, no accents): "Präsident" and "prasident" match.
 */

// Phrases, read before single words: the words of "chef de projet" mean nothing one by one.
export const INTL_PHRASES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    'directeur general': 'ceo',
    'directrice generale': 'ceo',
    'president directeur general': 'ceo',
    'director general': 'ceo',
    'directora general': 'ceo',
    'direttore generale': 'ceo',
    'diretor geral': 'ceo',
    'diretora geral': 'ceo',
    'amministratore delegato': 'ceo',
    'consejero delegado': 'ceo',
    'consejera delegada': 'ceo',
    'algemeen directeur': 'ceo',
    'gerente general': 'general manager',
    'directeur commercial': 'sales director',
    'directrice commerciale': 'sales director',
    'director comercial': 'sales director',
    'directora comercial': 'sales director',
    'direttore commerciale': 'sales director',
    'diretor comercial': 'sales director',
    'responsable commercial': 'sales manager',
    'responsable commerciale': 'sales manager',
    'chef de projet': 'project manager',
    'cheffe de projet': 'project manager',
    'jefe de proyecto': 'project manager',
    'jefa de proyecto': 'project manager',
    'chef de produit': 'product manager',
    'ingenieur commercial': 'sales engineer',
    'ingenieure commerciale': 'sales engineer',
    'ingenieur logiciel': 'software engineer',
    'ingeniero de software': 'software engineer',
    'ingeniera de software': 'software engineer',
    'desarrollador de software': 'software developer',
    'recursos humanos': 'human resources',
    'ressources humaines': 'human resources',
    'risorse umane': 'human resources',
    'socio fundador': 'founder',
    'socia fundadora': 'founder',
  }),
);
export const MAX_INTL_PHRASE = 3;

const words = (english: string, ...foreign: string[]) => foreign.map((word) => [word, english] as const);

export const INTL_WORDS: ReadonlyMap<string, string> = new Map([
  ...words(
    'managing director',
    'geschaftsfuhrer',
    'geschaftsfuhrerin',
    'geschaeftsfuehrer',
    'gerant',
    'gerante',
  ),
  ...words('ceo', 'pdg', 'vorstandsvorsitzender', 'vorstandsvorsitzende'),
  ...words(
    'owner',
    'inhaber',
    'inhaberin',
    'proprietaire',
    'propietario',
    'propietaria',
    'eigenaar',
    'titolare',
  ),
  ...words('founder', 'grunder', 'grunderin', 'gruender', 'fondateur', 'fondatrice', 'fundador', 'fundadora'),
  ...words('founder', 'fondatore', 'oprichter', 'oprichtster'),
  ...words(
    'co-founder',
    'mitgrunder',
    'mitgrunderin',
    'cofondateur',
    'cofondatrice',
    'cofundador',
    'cofundadora',
  ),
  ...words('co-founder', 'co-fondateur', 'co-fundador', 'cofondatore', 'medeoprichter'),
  ...words('president', 'presidente', 'prasident', 'prasidentin', 'presidenta', 'voorzitter'),
  ...words('director', 'directeur', 'directrice', 'direktor', 'direktorin', 'direttore', 'direttrice'),
  ...words('director', 'diretor', 'diretora', 'directora'),
  ...words('head', 'leiter', 'leiterin', 'jefe', 'jefa', 'hoofd'),
  ...words('manager', 'responsable', 'responsabile', 'gerente', 'managerin'),
  ...words('partner', 'socio', 'socia', 'associe', 'associee', 'gesellschafter', 'vennoot'),
  ...words(
    'sales',
    'ventas',
    'vendas',
    'vendite',
    'vertrieb',
    'verkauf',
    'verkoop',
    'comercial',
    'commerciale',
  ),
  ...words('marketing', 'mercadotecnia', 'mercadeo'),
  ...words('finance', 'finanzas', 'financas', 'finanze', 'finanzen', 'financien', 'financiero', 'financiera'),
  ...words('technology', 'tecnologia', 'technologie', 'techniek'),
  ...words('it', 'informatique', 'informatica', 'informatik'),
  ...words('engineer', 'ingenieur', 'ingeniero', 'ingeniera', 'ingegnere', 'engenheiro', 'engenheira'),
  ...words('engineering', 'ingenierie', 'ingenieria', 'ingegneria', 'engenharia'),
  ...words('developer', 'desarrollador', 'desarrolladora', 'developpeur', 'developpeuse', 'entwickler'),
  ...words('developer', 'entwicklerin', 'sviluppatore', 'desenvolvedor', 'ontwikkelaar'),
  ...words('product', 'produit', 'producto', 'prodotto', 'produto', 'produkt'),
  ...words('operations', 'operaciones', 'operazioni', 'operacoes'),
  ...words('procurement', 'compras', 'achats', 'acquisti', 'einkauf', 'inkoop'),
  ...words('legal', 'juridique', 'juridico', 'legale', 'recht'),
  ...words(
    'attorney',
    'abogado',
    'abogada',
    'avocat',
    'avocate',
    'avvocato',
    'rechtsanwalt',
    'rechtsanwaltin',
  ),
  ...words('attorney', 'advogado', 'advogada', 'advocaat'),
  ...words('accountant', 'comptable', 'contador', 'contadora', 'contabile', 'buchhalter', 'buchhalterin'),
  ...words('accountant', 'boekhouder'),
  ...words(
    'intern',
    'stagiaire',
    'praktikant',
    'praktikantin',
    'becario',
    'becaria',
    'stagista',
    'estagiario',
  ),
  ...words('intern', 'stagiair'),
  ...words('assistant', 'assistente', 'asistente', 'assistentin', 'assistante'),
  ...words('consultant', 'consultor', 'consultora', 'consulente', 'berater', 'beraterin', 'adviseur'),
  ...words('sales representative', 'vendedor', 'vendedora', 'verkaufer', 'vendeur', 'vendeuse', 'venditore'),
]);

// German compounds: "Vertriebsleiter", "Personalleiterin", "Marketingmanager".
const COMPOUND = /^([a-z]+?)s?(leiter|leiterin|chef|chefin|manager|managerin)$/;
const COMPOUND_FUNCTIONS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    vertrieb: 'sales',
    verkauf: 'sales',
    marketing: 'marketing',
    personal: 'hr',
    einkauf: 'procurement',
    finanz: 'finance',
    finanzen: 'finance',
    it: 'it',
    entwicklung: 'engineering',
    technik: 'engineering',
    produktion: 'operations',
    produkt: 'product',
    logistik: 'logistics',
    buchhaltung: 'accounting',
  }),
);

/** English words for a folded German compound title word, or undefined. */
export function germanCompound(folded: string): string | undefined {
  const match = COMPOUND.exec(folded);
  if (match === null) return undefined;
  const [, stem = '', role = ''] = match;
  // A Projektleiter leads projects: a project manager, not a head of department.
  if (stem === 'projekt') return 'project manager';
  const fn = COMPOUND_FUNCTIONS.get(stem);
  if (fn === undefined) return undefined;
  return `${fn} ${role.startsWith('manager') ? 'manager' : 'head'}`;
}
