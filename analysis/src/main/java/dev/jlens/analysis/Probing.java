package dev.jlens.analysis;

import dev.jlens.engine.JlensException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.commons.math3.optim.InitialGuess;
import org.apache.commons.math3.optim.MaxEval;
import org.apache.commons.math3.optim.PointValuePair;
import org.apache.commons.math3.optim.SimpleValueChecker;
import org.apache.commons.math3.optim.nonlinear.scalar.GoalType;
import org.apache.commons.math3.optim.nonlinear.scalar.ObjectiveFunction;
import org.apache.commons.math3.optim.nonlinear.scalar.ObjectiveFunctionGradient;
import org.apache.commons.math3.optim.nonlinear.scalar.gradient.NonLinearConjugateGradientOptimizer;

/**
 * Notebook 001's probes: neurons ranked by the difference of their class means, and logistic
 * regression probes on one neuron or a set, trained and scored on a shuffled split. The regression
 * is scikit-learn's default (L2 penalty with C = 1, unpenalised intercept), fitted by Commons Math's
 * nonlinear conjugate-gradient optimiser.
 */
public final class Probing {
    private Probing() {}

    /** Rows of features and their 0/1 labels; float, as activations are, which halves what a probe over many tokens holds. */
    public record Dataset(float[][] x, int[] y) {
        public Dataset {
            if (x.length != y.length) throw new IllegalArgumentException(x.length + " rows but " + y.length + " labels");
        }

        /** The same rows with only the given columns. */
        public Dataset columns(int... columns) {
            float[][] out = new float[x.length][];
            for (int i = 0; i < x.length; i++) {
                out[i] = new float[columns.length];
                for (int j = 0; j < columns.length; j++) out[i][j] = x[i][columns[j]];
            }
            return new Dataset(out, y);
        }
    }

    public record Split(Dataset train, Dataset test) {}

    /** Class 1 and class 0 rows, as many of each as the smaller class has (as the notebook balances them). */
    public static Dataset balanced(List<float[]> positives, List<float[]> negatives) {
        int n = Math.min(positives.size(), negatives.size());
        if (n == 0) throw new JlensException("a probe needs examples of both classes.");
        float[][] x = new float[2 * n][];
        int[] y = new int[2 * n];
        for (int i = 0; i < n; i++) {
            x[i] = positives.get(i);
            y[i] = 1;
            x[n + i] = negatives.get(i);
        }
        return new Dataset(x, y);
    }

    /** A seeded shuffle, then the last {@code testFraction} of the rows held out. */
    public static Split split(Dataset data, double testFraction, long seed) {
        List<Integer> order = new ArrayList<>(IntStream.range(0, data.y.length).boxed().toList());
        java.util.Collections.shuffle(order, new Random(seed));
        int test = (int) Math.ceil(testFraction * order.size()), train = order.size() - test;
        return new Split(subset(data, order.subList(0, train)), subset(data, order.subList(train, order.size())));
    }

    private static Dataset subset(Dataset data, List<Integer> rows) {
        float[][] x = new float[rows.size()][];
        int[] y = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            x[i] = data.x[rows.get(i)];
            y[i] = data.y[rows.get(i)];
        }
        return new Dataset(x, y);
    }

    /** |mean over class 1 − mean over class 0| of every feature. */
    public static double[] classMeanDifference(Dataset data) {
        int width = data.x[0].length;
        double[] sum1 = new double[width], sum0 = new double[width];
        int n1 = 0, n0 = 0;
        for (int i = 0; i < data.y.length; i++) {
            double[] target = data.y[i] == 1 ? sum1 : sum0;
            if (data.y[i] == 1) n1++;
            else n0++;
            for (int j = 0; j < width; j++) target[j] += data.x[i][j];
        }
        double[] score = new double[width];
        for (int j = 0; j < width; j++) score[j] = Math.abs(sum1[j] / Math.max(1, n1) - sum0[j] / Math.max(1, n0));
        return score;
    }

    /** The {@code k} features with the largest scores, best first. */
    public static int[] topK(double[] scores, int k) {
        return IntStream.range(0, scores.length).boxed()
                .sorted(Comparator.comparingDouble((Integer j) -> -scores[j]).thenComparingInt(j -> j))
                .limit(k).mapToInt(Integer::intValue).toArray();
    }

    /** A fitted logistic regression: p(class 1 | x) = σ(w·x + b). */
    public record LogisticRegression(double[] weights, double bias) {
        /**
         * Minimises ½‖w‖² + C·Σ log-loss (scikit-learn's objective; the intercept is not penalised).
         */
        public static LogisticRegression fit(Dataset data, double c) {
            int width = data.x[0].length;
            NonLinearConjugateGradientOptimizer optimizer = new NonLinearConjugateGradientOptimizer(
                    NonLinearConjugateGradientOptimizer.Formula.POLAK_RIBIERE, new SimpleValueChecker(1e-10, 1e-12));
            PointValuePair best = optimizer.optimize(new MaxEval(20_000), GoalType.MINIMIZE, new InitialGuess(new double[width + 1]),
                    new ObjectiveFunction(params -> objective(data, params, c)),
                    new ObjectiveFunctionGradient(params -> gradient(data, params, c)));
            double[] p = best.getPoint();
            return new LogisticRegression(Arrays.copyOf(p, width), p[width]);
        }

        public int predict(float[] x) {
            double z = bias;
            for (int j = 0; j < weights.length; j++) z += weights[j] * x[j];
            return z > 0 ? 1 : 0;
        }

        /** The fraction of rows predicted right. */
        public double accuracy(Dataset data) {
            int right = 0;
            for (int i = 0; i < data.y.length; i++) if (predict(data.x[i]) == data.y[i]) right++;
            return (double) right / data.y.length;
        }

        static double objective(Dataset data, double[] params, double c) {
            int width = params.length - 1;
            double loss = 0, penalty = 0;
            for (int j = 0; j < width; j++) penalty += params[j] * params[j];
            for (int i = 0; i < data.y.length; i++) {
                double z = params[width];
                for (int j = 0; j < width; j++) z += params[j] * data.x[i][j];
                // log(1 + e^{−s·z}) with s = ±1, written to stay finite for large |z|
                double m = data.y[i] == 1 ? -z : z;
                loss += m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
            }
            return 0.5 * penalty + c * loss;
        }

        static double[] gradient(Dataset data, double[] params, double c) {
            int width = params.length - 1;
            double[] g = new double[params.length];
            for (int j = 0; j < width; j++) g[j] = params[j];
            for (int i = 0; i < data.y.length; i++) {
                double z = params[width];
                for (int j = 0; j < width; j++) z += params[j] * data.x[i][j];
                double p = 1 / (1 + Math.exp(-z)), r = c * (p - data.y[i]);
                for (int j = 0; j < width; j++) g[j] += r * data.x[i][j];
                g[width] += r;
            }
            return g;
        }
    }
}
