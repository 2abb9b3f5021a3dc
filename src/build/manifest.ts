/** What `born build` embeds beside the files archive, and what the executable reads back at start. */

/** Names of the single-executable assets. */
export const ASSETS = { manifest: 'born-manifest', files: 'born-files', model: (i: number): string => `born-model-${i}` } as const;

export interface EmbeddedModel {
  /** The model's name in `born serve` (its URL path). */
  name: string;
  /** The asset holding its bytes. */
  asset: string;
  /** Where it is unpacked, relative to the unpack directory (keeps the original base name). */
  file: string;
  size: number;
}

export interface Manifest {
  format: 1;
  /** sha256 of the archive and the models: the unpack directory's name, so a rebuilt executable never reuses another's files. */
  hash: string;
  /** Archive path of the ES module the executable imports once unpacked. */
  entry: string;
  /** The archive's files in order: [name, size, executable]; the archive is their bytes back to back, gzipped. */
  files: Array<[string, number, boolean]>;
  models: EmbeddedModel[];
}
