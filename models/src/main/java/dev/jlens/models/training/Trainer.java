package dev.jlens.models.training;

import dev.jlens.engine.Backend;
import dev.jlens.engine.DataType;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains a model with its own backward pass: batches of random windows of a token stream, the mean
 * next-token loss, gradients clipped to a global norm, AdamW at a scheduled learning rate, and the
 * loss on held-out text at intervals. A model held 16-bit is trained on float32 master weights,
 * which it keeps (export it with {@code --dtype bfloat16} to round them).
 */
public final class Trainer {
    /** How to train. */
    public record Options(int batch, int seq, LearningRateSchedule schedule, float weightDecay, float gradClip,
                          int evalEvery, int evalBatches, long seed) {}

    /** What a step reports. */
    public record Progress(int step, float lr, double loss, double gradNorm, Double evalLoss) {}

    private Trainer() {}

    /** Runs {@code schedule.totalSteps} steps; returns every step's progress. */
    public static List<Progress> train(HookedTransformer model, int[] train, int[] eval, Options o, Consumer<Progress> onStep) {
        if (train.length <= o.seq() || (eval != null && eval.length <= o.seq())) {
            throw new JlensException("the training and evaluation texts must be longer than one window of " + o.seq() + " tokens.");
        }
        if (o.seq() > model.cfg().nCtx()) throw new JlensException("windows of " + o.seq() + " tokens exceed the context of " + model.cfg().nCtx() + ".");
        // What requires no gradient (an organism's frozen biases) is neither clipped nor updated.
        List<Parameter> params = new ArrayList<>(model.parameters().values().stream().filter(Parameter::requiresGrad).toList());
        // A 16-bit model trains on float32 master weights: most steps move a weight by far less than
        // bf16's spacing near it, so rounding after every step would throw the updates away.
        for (Parameter p : params) p.value().convertTo(DataType.FLOAT32);
        AdamW adamw = new AdamW(params, 0.9f, 0.95f, 1e-8f, o.weightDecay());
        SplittableRandom rng = new SplittableRandom(o.seed());
        List<Progress> history = new ArrayList<>();
        for (int step = 0; step < o.schedule().totalSteps(); step++) {
            model.zeroGrad();
            double loss = model.lossAndBackward(windows(train, o.batch(), o.seq(), rng));
            double norm = clipGradients(params, o.gradClip());
            float lr = o.schedule().at(step);
            adamw.step(lr);
            Double evalLoss = eval != null && o.evalEvery() > 0 && ((step + 1) % o.evalEvery() == 0 || step + 1 == o.schedule().totalSteps())
                    ? evalLoss(model, eval, o.batch(), o.seq(), o.evalBatches(), o.seed()) : null;
            Progress p = new Progress(step, lr, loss, norm, evalLoss);
            history.add(p);
            if (onStep != null) onStep.accept(p);
        }
        return history;
    }

    /** {@code batch} windows of {@code seq} tokens at random offsets of the stream. */
    public static Tokens windows(int[] stream, int batch, int seq, SplittableRandom rng) {
        int[][] rows = new int[batch][];
        for (int b = 0; b < batch; b++) {
            int start = rng.nextInt(stream.length - seq + 1);
            rows[b] = java.util.Arrays.copyOfRange(stream, start, start + seq);
        }
        return Tokens.padded(0, rows);
    }

    /** The mean loss over {@code batches} batches of windows drawn with a fixed seed, so evaluations compare. */
    public static double evalLoss(HookedTransformer model, int[] stream, int batch, int seq, int batches, long seed) {
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
        double sum = 0;
        for (int i = 0; i < batches; i++) {
            Tokens tokens = windows(stream, batch, seq, rng);
            sum += model.loss(tokens);
        }
        return sum / batches;
    }

    /** Scales every gradient so that their global L2 norm is at most {@code maxNorm}; returns the norm before. */
    public static double clipGradients(List<Parameter> params, float maxNorm) {
        if (params.isEmpty()) return 0;
        List<Tensor> grads = params.stream().map(Parameter::grad).toList();
        double norm = Math.sqrt(Backend.of(grads.getFirst()).sumOfSquares(grads));
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / norm);
            for (Parameter p : params) Backend.of(p.grad()).scale(p.grad(), scale);
        }
        return norm;
    }
}
