/**
 * OKX derivatives count sizes in contracts of `ctVal` base units; Vigil records base units. The
 * product is computed exactly in decimal (integer digits and a power of ten) and only then turned into
 * a number, so 3 contracts × 0.1 is 0.3 — the number a parser of the string "0.3" gets — and never
 * 0.30000000000000004.
 */

/** A non-negative decimal string: digits, optionally a point and more digits. */
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** A decimal as `digits / 10^scale`. */
interface Decimal {
  digits: bigint;
  scale: number;
}

function parseDecimal(text: string): Decimal | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const frac = m[2] ?? '';
  return { digits: BigInt(m[1]! + frac), scale: frac.length };
}

function formatDecimal(d: Decimal): string {
  const digits = d.digits.toString();
  if (d.scale <= 0) return digits + '0'.repeat(-d.scale);
  const padded = digits.padStart(d.scale + 1, '0');
  return `${padded.slice(0, -d.scale)}.${padded.slice(-d.scale)}`;
}

/** The contract value of one instrument: converts contract sizes (wire strings) to base units. */
export class ContractValue {
  private readonly value: Decimal;
  /** ctVal 1: sizes are base units already (spot, or contracts of one coin). */
  private readonly unit: boolean;

  private constructor(
    readonly text: string,
    value: Decimal,
  ) {
    this.value = value;
    this.unit = value.digits === 10n ** BigInt(value.scale);
  }

  /** A ctVal string from the instruments endpoint (e.g. "0.01"); null unless a positive decimal. */
  static parse(text: string): ContractValue | null {
    const value = parseDecimal(text);
    if (value === null || value.digits === 0n) return null;
    return new ContractValue(text, value);
  }

  /** Spot: sizes are in base currency as sent. */
  static readonly ONE = ContractValue.parse('1')!;

  /** `contracts × ctVal` in base units, exact to the decimal; NaN when `size` is not a decimal string. */
  toBase(size: string): number {
    if (this.unit) return DECIMAL.test(size) ? +size : NaN;
    const d = parseDecimal(size);
    if (d === null) return NaN;
    return +formatDecimal({ digits: d.digits * this.value.digits, scale: d.scale + this.value.scale });
  }
}
