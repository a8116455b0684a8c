// A little TypeScript: indentation, operators and numbers cost tokens too.
export function fibonacci(n: number): number {
	if (n < 2) return n;
    return fibonacci(n - 1) + fibonacci(n - 2);
}

const values = [1, 12, 123, 1234, 12345678];
console.log(values.map(fibonacci).join(', ')); // <|endoftext|> is just text here
