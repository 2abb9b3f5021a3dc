// Where the real stories260K.bin is looked for: $BORN_MODELS, then ../shared/models beside the
// checkout (or one level further up). Tests that need it skip, saying so, where it is absent.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const storiesCandidates = [
  ...(process.env.BORN_MODELS ? [join(process.env.BORN_MODELS, 'stories260K.bin')] : []),
  join(root, '..', 'shared', 'models', 'stories260K.bin'),
  join(root, '..', '..', 'shared', 'models', 'stories260K.bin'), // a checkout one level deeper
];

export const storiesPath: string | undefined = storiesCandidates.find((p) => existsSync(p));
