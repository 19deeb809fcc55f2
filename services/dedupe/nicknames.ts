/**
 * English given-name equivalence groups: the formal name(s) first, then the usual short forms and
 * spelling variants. No maintained npm package ships such a table, so it is kept here, curated from
 * common US/UK usage. A name can sit in several groups ("alex" is Alexander or Alexandra, "al" is
 * Albert, Alan or Alfred): two first names are equivalent when they share at least one group.
 * Names are folded (lower case, ASCII) before lookup, so "José" finds "jose".
 */
const GROUPS: readonly (readonly string[])[] = [
  ['robert', 'bob', 'bobby', 'rob', 'robbie', 'robby', 'bert', 'bobbie'],
  ['william', 'bill', 'billy', 'will', 'willie', 'willy', 'liam'],
  ['elizabeth', 'liz', 'lizzie', 'lizzy', 'beth', 'betty', 'betsy', 'eliza', 'libby', 'elisabeth'],
  ['richard', 'rick', 'ricky', 'rich', 'richie', 'dick', 'rico'],
  ['james', 'jim', 'jimmy', 'jamie', 'jimmie'],
  ['john', 'jack', 'johnny', 'jon', 'johnnie'],
  ['jonathan', 'jon', 'jonny', 'johnathan', 'jonathon'],
  ['michael', 'mike', 'mikey', 'mick', 'mickey', 'micheal'],
  ['christopher', 'chris', 'topher', 'kit', 'kristopher', 'cristopher'],
  ['christina', 'christine', 'kristina', 'kristine', 'chris', 'tina', 'chrissy', 'kris'],
  ['joseph', 'joe', 'joey', 'jo'],
  ['josephine', 'jo', 'josie'],
  ['thomas', 'tom', 'tommy', 'thom'],
  ['charles', 'charlie', 'chuck', 'chas', 'chaz'],
  ['charlotte', 'charlie', 'lottie'],
  ['daniel', 'dan', 'danny'],
  ['danielle', 'dani', 'ellie'],
  ['david', 'dave', 'davey', 'davy'],
  ['matthew', 'matt', 'matty'],
  ['anthony', 'tony', 'antony'],
  ['andrew', 'andy', 'drew'],
  ['edward', 'ed', 'eddie', 'eddy', 'ted', 'ned'],
  ['edmund', 'ed', 'eddie', 'ned'],
  ['steven', 'stephen', 'steve', 'stevie'],
  ['timothy', 'tim', 'timmy'],
  ['kenneth', 'ken', 'kenny'],
  ['joshua', 'josh'],
  ['benjamin', 'ben', 'benny', 'benji'],
  ['samuel', 'sam', 'sammy'],
  ['samantha', 'sam', 'sammy', 'sammie'],
  ['alexander', 'alex', 'al', 'xander', 'sasha', 'alec', 'sandy'],
  ['alexandra', 'alex', 'alexa', 'lexi', 'sasha', 'sandra', 'sandy'],
  ['patrick', 'pat', 'paddy'],
  ['patricia', 'pat', 'patty', 'patsy', 'trish', 'tricia'],
  ['jennifer', 'jen', 'jenny', 'jenn'],
  ['katherine', 'catherine', 'kathryn', 'kate', 'kathy', 'katie', 'cathy', 'kat', 'kit', 'kay'],
  ['margaret', 'maggie', 'meg', 'peggy', 'marge', 'margie', 'greta'],
  ['rebecca', 'becky', 'becca'],
  ['susan', 'sue', 'susie', 'suzy', 'suzanne'],
  ['deborah', 'debra', 'deb', 'debbie', 'debby'],
  ['jessica', 'jess', 'jessie'],
  ['victoria', 'vicky', 'vicki', 'tori'],
  ['nicholas', 'nick', 'nicky', 'nico', 'nicolas'],
  ['nicole', 'nicky', 'nikki', 'nicola'],
  ['gregory', 'greg'],
  ['jeffrey', 'geoffrey', 'jeff', 'geoff'],
  ['douglas', 'doug'],
  ['raymond', 'ray'],
  ['ronald', 'ron', 'ronnie'],
  ['donald', 'don', 'donnie'],
  ['gerald', 'gerry', 'jerry'],
  ['jerome', 'jerry'],
  ['lawrence', 'laurence', 'larry'],
  ['leonard', 'leo', 'len', 'lenny'],
  ['peter', 'pete'],
  ['frederick', 'fred', 'freddie', 'freddy'],
  ['albert', 'al', 'bert', 'bertie'],
  ['alfred', 'al', 'alfie', 'fred'],
  ['alan', 'allan', 'allen', 'al'],
  ['theodore', 'ted', 'teddy', 'theo'],
  ['zachary', 'zach', 'zack', 'zak'],
  ['nathaniel', 'nathan', 'nate', 'nat'],
  ['philip', 'phillip', 'phil'],
  ['harold', 'harry', 'hal'],
  ['henry', 'hank', 'harry', 'hal'],
  ['walter', 'walt', 'wally'],
  ['eugene', 'gene'],
  ['vincent', 'vince', 'vinny', 'vinnie'],
  ['francis', 'frank', 'frankie', 'fran'],
  ['franklin', 'frank', 'frankie'],
  ['frances', 'fran', 'frankie'],
  ['abigail', 'abby', 'abbie', 'gail'],
  ['amanda', 'mandy', 'manda'],
  ['barbara', 'barb', 'barbie', 'babs'],
  ['cynthia', 'cindy'],
  ['dorothy', 'dot', 'dottie', 'dolly'],
  ['judith', 'judy', 'jude'],
  ['kimberly', 'kimberley', 'kim'],
  ['melissa', 'missy', 'mel', 'lissa'],
  ['melanie', 'mel'],
  ['pamela', 'pam'],
  ['stephanie', 'steph', 'stephie'],
  ['teresa', 'theresa', 'terry', 'tess', 'tessa', 'terri'],
  ['valerie', 'val'],
  ['jacqueline', 'jackie', 'jacquie'],
  ['caroline', 'carolyn', 'carol', 'carrie', 'caro'],
  ['megan', 'meghan', 'meg'],
  ['gabriel', 'gabe'],
  ['gabrielle', 'gabriela', 'gabriella', 'gabby', 'gabi'],
  ['isabel', 'isabella', 'isabelle', 'izzy', 'bella'],
  ['olivia', 'liv', 'livvy'],
  ['eleanor', 'elinor', 'ellie', 'nora', 'elle'],
  ['mitchell', 'mitch'],
  ['maximilian', 'max'],
  ['maxwell', 'max'],
  ['benedict', 'ben'],
  ['terence', 'terrence', 'terry'],
  ['stanley', 'stan'],
  ['randall', 'randy'],
  ['russell', 'russ'],
  ['bradley', 'brad'],
  ['cameron', 'cam'],
  ['clifford', 'cliff'],
  ['dennis', 'denny'],
  ['jacob', 'jake', 'jakob'],
  ['louis', 'lewis', 'lou'],
  ['louise', 'lou', 'lulu'],
  ['marcus', 'mark', 'marc'],
  ['martin', 'marty'],
  ['nancy', 'nan'],
  ['ann', 'anne', 'anna', 'annie', 'nan', 'nancy'],
  ['sarah', 'sara', 'sally', 'sadie'],
  ['mary', 'molly', 'polly', 'mae'],
  ['virginia', 'ginny', 'ginger'],
  ['emily', 'emmy', 'em'],
  ['emma', 'em', 'emmy'],
  ['angela', 'angie'],
  ['christian', 'chris', 'christiaan', 'kristian'],
  ['sebastian', 'seb', 'bastian'],
  ['dominic', 'dominick', 'dom'],
  ['oliver', 'ollie'],
  ['giuseppe', 'joseph', 'beppe'],
  ['guillermo', 'william', 'memo'],
  ['jose', 'pepe'],
  ['francisco', 'paco', 'pancho', 'francis'],
  ['alejandro', 'alex', 'alexander'],
  ['ekaterina', 'katherine', 'katya', 'katia'],
  ['aleksandr', 'alexander', 'sasha', 'sascha'],
];

const groupsByName = new Map<string, number[]>();
GROUPS.forEach((group, index) => {
  for (const name of group) {
    const list = groupsByName.get(name) ?? [];
    if (!list.includes(index)) list.push(index);
    groupsByName.set(name, list);
  }
});

/** True when the two folded first names are nicknames or spelling variants of one another. */
export function nicknameEquivalent(a: string, b: string): boolean {
  const ga = groupsByName.get(a);
  const gb = groupsByName.get(b);
  if (!ga || !gb) return false;
  return ga.some((g) => gb.includes(g));
}

/**
 * The formal names a folded first name may stand for (itself when it is in no group). Blocking uses
 * their initials, so "Bob Smith" and "Robert Smith" land in the same company+initial block.
 */
export function formalNames(name: string): string[] {
  const groups = groupsByName.get(name);
  if (!groups) return [name];
  let known = formalCache.get(name);
  if (!known) {
    const out = new Set<string>([name]);
    for (const g of groups) {
      const formal = GROUPS[g]?.[0];
      if (formal) out.add(formal);
    }
    known = [...out].sort();
    formalCache.set(name, known);
  }
  return known;
}

/** Only names of the table are cached, so the cache is bounded by the table's size. */
const formalCache = new Map<string, string[]>();

/** All folded names of the table: the benchmark generator draws nicknames from it. */
export function nicknamesOf(name: string): string[] {
  const groups = groupsByName.get(name) ?? [];
  const out = new Set<string>();
  for (const g of groups) for (const n of GROUPS[g] ?? []) if (n !== name) out.add(n);
  return [...out].sort();
}
