/**
 * Decoding file bytes the way VS Code does, so that the CLI and the editor see the same text:
 * BOMs (UTF-8 removed; UTF-16 LE/BE decoded), invalid UTF-8 as U+FFFD (the WHATWG decoder), NUL bytes
 * mean binary, and mixed line endings unified to the file's dominant one as VS Code's text model does.
 */

export class BinaryFileError extends Error {
  constructor(readonly path: string) {
    super(`${path} looks like a binary file (it contains NUL bytes); Token Inspector reads text files`);
    this.name = 'BinaryFileError';
  }
}

export interface DecodedText {
  readonly text: string;
  readonly encoding: 'utf8' | 'utf8bom' | 'utf16le' | 'utf16be';
  readonly eol: '\n' | '\r\n';
}

/** VS Code reads the first 512 bytes to guess binary-ness: a NUL byte there (outside UTF-16) means binary. */
const BINARY_SNIFF_BYTES = 512;

export function decodeFileBytes(bytes: Uint8Array, path = 'the file'): DecodedText {
  let text: string;
  let encoding: DecodedText['encoding'];
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    encoding = 'utf8bom';
    text = new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
  } else if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    encoding = 'utf16le';
    text = new TextDecoder('utf-16le').decode(bytes);
  } else if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    encoding = 'utf16be';
    text = new TextDecoder('utf-16be').decode(bytes);
  } else {
    const sniff = bytes.subarray(0, BINARY_SNIFF_BYTES);
    if (sniff.includes(0)) throw new BinaryFileError(path);
    encoding = 'utf8';
    text = new TextDecoder('utf-8').decode(bytes);
  }
  return normalizeEol(text, encoding);
}

/** Line breaks counted over a text or its pieces (a piece must not end between the CR and LF of a CRLF). */
export class LineBreakCounts {
  private cr = 0;
  private lf = 0;
  private crlf = 0;

  add(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 13) {
        if (s.charCodeAt(i + 1) === 10) {
          this.crlf++;
          i++;
        } else this.cr++;
      } else if (c === 10) this.lf++;
    }
  }

  /** VS Code's rule: CRLF when more than half of the line breaks involve CR, else LF. */
  get eol(): '\n' | '\r\n' {
    const total = this.cr + this.lf + this.crlf;
    return total > 0 && this.cr + this.crlf > total / 2 ? '\r\n' : '\n';
  }

  /** Some break is not the dominant one. */
  get mixed(): boolean {
    return this.eol === '\r\n' ? this.cr > 0 || this.lf > 0 : this.cr > 0 || this.crlf > 0;
  }
}

/** Every line break as `eol`. */
export function unifyLineBreaks(s: string, eol: '\n' | '\r\n'): string {
  return s.replace(/\r\n|\r|\n/g, eol);
}

/** VS Code's rule: CRLF when more than half of the line breaks involve CR, else LF; all breaks unified. */
export function normalizeEol(text: string, encoding: DecodedText['encoding'] = 'utf8'): DecodedText {
  const breaks = new LineBreakCounts();
  breaks.add(text);
  const eol = breaks.eol;
  return { text: breaks.mixed ? unifyLineBreaks(text, eol) : text, encoding, eol };
}
