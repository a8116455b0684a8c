/** Growable (token, feature, activation) triples: what an encoder selected, in any order. */
import { grownTo } from '../../typedArrays';

export class SelectedEntries {
  tokens = new Uint32Array(1024);
  features = new Uint32Array(1024);
  values = new Float32Array(1024);
  length = 0;
  push(t: number, f: number, v: number): void {
    if (this.length === this.tokens.length) {
      const cap = this.length * 2;
      this.tokens = grownTo(this.tokens, cap);
      this.features = grownTo(this.features, cap);
      this.values = grownTo(this.values, cap);
    }
    this.tokens[this.length] = t;
    this.features[this.length] = f;
    this.values[this.length] = v;
    this.length++;
  }
}
