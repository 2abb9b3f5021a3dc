/**
 * Generated ids to text as it streams: UTF-8-safe pieces from the tokenizer's StreamDecoder, with
 * stop strings found across token boundaries. Text that could be the start of a stop string is
 * held back until the next tokens settle it, so nothing of a stop string is ever yielded.
 */
import type { StreamDecoder } from '../tokenizer/stream-decoder.js';

export class TextStream {
  private held = '';
  private stopped = false;

  constructor(private readonly decoder: StreamDecoder, private readonly stops: readonly string[]) {}

  /** The text that `id` makes printable (maybe ''), and whether a stop string is now complete. */
  push(id: number): { text: string; stopped: boolean } {
    return this.feed(this.decoder.push(id), false);
  }

  /** What is left at the end (held-back text, incomplete UTF-8), up to a stop string. */
  end(): string {
    return this.stopped ? '' : this.feed(this.decoder.flush(), true).text;
  }

  private feed(piece: string, last: boolean): { text: string; stopped: boolean } {
    if (this.stopped) return { text: '', stopped: true };
    const buf = this.held + piece;
    let cut = -1;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.held = '';
      this.stopped = true;
      return { text: buf.slice(0, cut), stopped: true };
    }
    // Hold back the longest end of the text that begins some stop string.
    let keep = 0;
    if (!last) {
      for (const s of this.stops) {
        for (let k = Math.min(s.length - 1, buf.length); k > keep; k--) {
          if (buf.endsWith(s.slice(0, k))) { keep = k; break; }
        }
      }
    }
    this.held = buf.slice(buf.length - keep);
    return { text: buf.slice(0, buf.length - keep), stopped: false };
  }
}
