package dev.jlens.models.training;

/**
 * Linear warm-up from 0 to {@code maxLr} over {@code warmupSteps}, then cosine decay to
 * {@code minLr} at {@code totalSteps} (and {@code minLr} after).
 */
public record LearningRateSchedule(float maxLr, float minLr, int warmupSteps, int totalSteps) {
    public LearningRateSchedule {
        if (warmupSteps < 0 || totalSteps <= warmupSteps) {
            throw new IllegalArgumentException("need 0 <= warm-up steps < total steps, got " + warmupSteps + " and " + totalSteps);
        }
    }

    /** The learning rate of step {@code step}, counting from 0. */
    public float at(int step) {
        if (step < warmupSteps) return maxLr * (step + 1) / warmupSteps;
        if (step >= totalSteps) return minLr;
        double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        return (float) (minLr + 0.5 * (maxLr - minLr) * (1 + Math.cos(Math.PI * progress)));
    }
}
