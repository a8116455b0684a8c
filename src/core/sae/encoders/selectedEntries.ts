/** Growable (token, feature, activation) triples: what an encoder selected, in any order. */
export class SelectedEntries {
  tokens = new Uint32Array(1024);
  features = new Uint32Array(1024);
  values = new Float32Array(1024);
  length = 0;
  push(t: number, f: number, v: number): void {
    if (this.length === this.tokens.length) {
      const cap = this.length * 2;
      const grow = <T extends Uint32Array | Float32Array>(a: T, make: (n: number) => T): T => {
        const b = make(cap);
        b.set(a);
        return b;
      };
      this.tokens = grow(this.tokens, (n) => new Uint32Array(n));
      this.features = grow(this.features, (n) => new Uint32Array(n));
      this.values = grow(this.values, (n) => new Float32Array(n));
    }
    this.tokens[this.length] = t;
    this.features[this.length] = f;
    this.values[this.length] = v;
    this.length++;
  }
}
