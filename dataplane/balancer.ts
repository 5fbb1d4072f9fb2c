/**
 * Smooth weighted round robin (the nginx algorithm): over every window of `sum(weights)` picks
 * each item is chosen exactly `weight` times, interleaved rather than in bursts. Items with
 * weight 0 are never chosen.
 */
export class WeightedPicker<T> {
  private readonly items: T[];
  private readonly weights: number[];
  private readonly current: number[];
  private readonly total: number;

  constructor(entries: readonly { item: T; weight: number }[]) {
    const positive = entries.filter((entry) => entry.weight > 0);
    this.items = positive.map((entry) => entry.item);
    this.weights = positive.map((entry) => entry.weight);
    this.current = positive.map(() => 0);
    this.total = this.weights.reduce((sum, weight) => sum + weight, 0);
  }

  /** Undefined when no item has a positive weight. */
  pick(): T | undefined {
    const count = this.items.length;
    if (count <= 1) return this.items[0];
    let best = 0;
    let bestValue = -Infinity;
    for (let i = 0; i < count; i++) {
      const value = (this.current[i] as number) + (this.weights[i] as number);
      this.current[i] = value;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    this.current[best] = bestValue - this.total;
    return this.items[best];
  }
}
