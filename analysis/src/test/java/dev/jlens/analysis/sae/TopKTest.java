package dev.jlens.analysis.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** TopK's selection against a full sort (value descending, then index ascending), with ties and -inf among the values. */
class TopKTest {
    @Test
    void picksWhatAFullSortPicks() {
        SplittableRandom rng = new SplittableRandom(1);
        for (int trial = 0; trial < 500; trial++) {
            int n = 1 + rng.nextInt(300), k = 1 + rng.nextInt(Math.min(n, 40)), at = rng.nextInt(5);
            float[] v = new float[at + n];
            for (int i = 0; i < v.length; i++) {
                v[i] = switch (rng.nextInt(4)) {
                    case 0 -> rng.nextInt(5); // ties
                    case 1 -> Float.NEGATIVE_INFINITY;
                    default -> (float) rng.nextGaussian();
                };
            }
            int[] expected = IntStream.range(0, n).boxed()
                    .sorted(Comparator.comparingDouble((Integer j) -> -v[at + j]).thenComparingInt(j -> j))
                    .limit(k).mapToInt(Integer::intValue).sorted().toArray();
            int[] got = TopK.largest(v, at, n, k);
            Arrays.sort(got);
            assertArrayEquals(expected, got, "n " + n + " k " + k);
        }
    }
}
