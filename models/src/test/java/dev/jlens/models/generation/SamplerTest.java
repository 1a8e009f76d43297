package dev.jlens.models.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The draws' distribution against the softmax each option defines, over 200,000 draws. */
class SamplerTest {
    private static final float[] LOGITS = {2.0f, 1.0f, 0.5f, 0.5f, -1.0f, 0.0f};
    private static final int DRAWS = 200_000;

    private static double[] frequencies(Sampling sampling, int[] counts) {
        Sampler sampler = new Sampler(sampling);
        double[] f = new double[LOGITS.length];
        for (int i = 0; i < DRAWS; i++) f[sampler.next(LOGITS, 0, LOGITS.length, counts)] += 1.0 / DRAWS;
        return f;
    }

    /** softmax(x / temperature − penalty·counts) over the ids kept. */
    private static double[] expected(double temperature, double penalty, int[] counts, int... kept) {
        double[] p = new double[LOGITS.length];
        double sum = 0;
        for (int i : kept) sum += p[i] = Math.exp(LOGITS[i] / temperature - penalty * counts[i]);
        for (int i : kept) p[i] /= sum;
        return p;
    }

    private static void assertDistribution(double[] expected, double[] actual) {
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 0.005, "token " + i);
    }

    @Test
    void temperatureScalesTheLogits() {
        int[] none = new int[LOGITS.length];
        assertDistribution(expected(1, 0, none, 0, 1, 2, 3, 4, 5), frequencies(new Sampling(1, 0, 1, 0, 1), none));
        assertDistribution(expected(0.5, 0, none, 0, 1, 2, 3, 4, 5), frequencies(new Sampling(0.5, 0, 1, 0, 2), none));
        assertDistribution(expected(3, 0, none, 0, 1, 2, 3, 4, 5), frequencies(new Sampling(3, 0, 1, 0, 3), none));
    }

    @Test
    void topKKeepsTheLargestAndTheirTies() {
        int[] none = new int[LOGITS.length];
        assertDistribution(expected(1, 0, none, 0, 1), frequencies(new Sampling(1, 2, 1, 0, 4), none));
        // The third largest is 0.5, held by ids 2 and 3: both stay.
        assertDistribution(expected(1, 0, none, 0, 1, 2, 3), frequencies(new Sampling(1, 3, 1, 0, 5), none));
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        int[] none = new int[LOGITS.length];
        double[] all = expected(1, 0, none, 0, 1, 2, 3, 4, 5);
        // p(0) ≈ 0.50 < 0.6: token 1 is needed too; p(0) + p(1) ≈ 0.68 reaches 0.6, so the rest go.
        assertTrue(all[0] < 0.6 && all[0] + all[1] > 0.6);
        assertDistribution(expected(1, 0, none, 0, 1), frequencies(new Sampling(1, 0, 0.6, 0, 6), none));
        assertDistribution(expected(1, 0, none, 0), frequencies(new Sampling(1, 0, 0.3, 0, 7), none));
    }

    @Test
    void theFrequencyPenaltyLowersTokensByTheirCounts() {
        int[] counts = {3, 0, 1, 0, 0, 2};
        assertDistribution(expected(2, 0.4, counts, 0, 1, 2, 3, 4, 5), frequencies(new Sampling(2, 0, 1, 0.4, 8), counts));
    }

    @Test
    void greedyIsTheArgMaxWithTheLowestIdOnATie() {
        Sampler greedy = new Sampler(Sampling.greedy());
        assertEquals(0, greedy.next(LOGITS, 0, LOGITS.length, new int[LOGITS.length]));
        assertEquals(0, greedy.next(new float[] {0, 0.5f, 0.5f, 0.5f}, 1, 3, new int[3]), "the row starts at 1: its first 0.5 is its id 0");
    }
}
