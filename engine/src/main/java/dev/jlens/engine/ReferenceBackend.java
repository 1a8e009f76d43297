package dev.jlens.engine;

import dev.jlens.kernels.AdamWUpdate;
import dev.jlens.kernels.CausalMask;
import dev.jlens.kernels.Gelu;
import dev.jlens.kernels.Rotary;
import dev.jlens.kernels.SoftCap;
import dev.jlens.kernels.Solu;
import java.util.List;

/**
 * Every {@link Backend} operation written the plainest way: one loop per formula, sums in double,
 * one thread, host arrays. Slow on purpose; it is what a new backend is tested against (as the CPU
 * and CUDA backends are), so it shares no code with them beyond the kernels' own scalar references
 * for GELU and SoLU.
 */
public final class ReferenceBackend implements Backend {
    public static final ReferenceBackend INSTANCE = new ReferenceBackend();

    private ReferenceBackend() {}

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public void synchronize() {}

    @Override
    public Tensor zeros(int... shape) {
        return Tensor.zeros(shape);
    }

    @Override
    public Tensor empty(int... shape) {
        return Tensor.zeros(shape);
    }

    @Override
    public Tensor place(Tensor t) {
        t.data();
        return t;
    }

    @Override
    public Tensor copy(Tensor t) {
        return Tensor.of(t.data().clone(), t.shape());
    }

    @Override
    public void zero(Tensor t) {
        float[] v = t.data();
        for (int i = 0; i < v.length; i++) v[i] = 0;
    }

    @Override
    public Tensor sum(Tensor a, Tensor b) {
        float[] x = a.data(), y = b.data(), out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] + y[i];
        return Tensor.of(out, a.shape());
    }

    @Override
    public void add(Tensor x, int xOff, Tensor y, int yOff, int n) {
        float[] from = x.data(), to = y.data();
        for (int i = 0; i < n; i++) to[yOff + i] += from[xOff + i];
    }

    @Override
    public void matmul(Matrix a, Matrix b, Tensor bias, Matrix c) {
        product(a, b, c, false, bias);
    }

    @Override
    public void matmulAdd(Matrix a, Matrix b, Matrix c) {
        product(a, b, c, true, null);
    }

    /** c[i, j] (+)= Σ_p a[i, p]·b[p, j] (+ bias[j]). */
    private static void product(Matrix a, Matrix b, Matrix c, boolean accumulate, Tensor bias) {
        Matrix.checkProduct(a, b, c);
        float[] av = a.data().data(), bv = b.data().data(), cv = c.data().data(), biases = bias == null ? null : bias.data();
        for (int i = 0; i < c.rows(); i++) {
            for (int j = 0; j < c.cols(); j++) {
                double sum = biases == null ? 0 : biases[j];
                for (int p = 0; p < a.cols(); p++) sum += (double) av[a.index(i, p)] * bv[b.index(p, j)];
                int at = c.index(i, j);
                cv[at] = accumulate ? cv[at] + (float) sum : (float) sum;
            }
        }
    }

    @Override
    public void matvec(Matrix a, Tensor x, Tensor y) {
        float[] m = a.data().data(), v = x.data(), out = y.data();
        for (int i = 0; i < a.rows(); i++) {
            double sum = 0;
            for (int j = 0; j < a.cols(); j++) sum += (double) m[a.index(i, j)] * v[j];
            out[i] = (float) sum;
        }
    }

    @Override
    public void copyRows(Matrix src, Matrix dst) {
        Matrix.checkSameShape(src, dst);
        float[] s = src.data().data(), d = dst.data().data();
        for (int i = 0; i < dst.rows(); i++) for (int j = 0; j < dst.cols(); j++) d[dst.index(i, j)] = s[src.index(i, j)];
    }

    @Override
    public void addRows(Matrix src, Matrix dst) {
        Matrix.checkSameShape(src, dst);
        float[] s = src.data().data(), d = dst.data().data();
        for (int i = 0; i < dst.rows(); i++) for (int j = 0; j < dst.cols(); j++) d[dst.index(i, j)] += s[src.index(i, j)];
    }

    @Override
    public void sumRows(Matrix x, Tensor y) {
        float[] s = x.data().data(), out = y.data();
        for (int j = 0; j < x.cols(); j++) {
            double sum = 0;
            for (int i = 0; i < x.rows(); i++) sum += s[x.index(i, j)];
            out[j] += (float) sum;
        }
    }

    @Override
    public void reciprocal(Tensor x, Tensor y) {
        float[] in = x.data(), out = y.data();
        for (int i = 0; i < in.length; i++) out[i] = 1f / in[i];
    }

    @Override
    public void layerNormStatistics(Tensor x, Tensor mean, Tensor rstd, int rows, int width, float eps) {
        float[] v = x.data();
        for (int r = 0; r < rows; r++) {
            double mu = 0, var = 0;
            for (int i = 0; i < width; i++) mu += v[r * width + i];
            mu /= width;
            for (int i = 0; i < width; i++) var += (v[r * width + i] - mu) * (v[r * width + i] - mu);
            mean.data()[r] = (float) mu;
            rstd.data()[r] = (float) (1 / Math.sqrt(var / width + eps));
        }
    }

    @Override
    public void layerNormNormalize(Tensor x, Tensor y, Tensor w, Tensor b, Tensor mean, Tensor rstd, int rows, int width) {
        float[] in = x.data(), out = y.data();
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < width; i++) {
                double xhat = ((double) in[r * width + i] - mean.data()[r]) * rstd.data()[r];
                out[r * width + i] = (float) (xhat * (w == null ? 1 : w.data()[i]) + (b == null ? 0 : b.data()[i]));
            }
        }
    }

    /** With g = dy·w and x̂ = (x − mean)·rstd: dx_c = g·rstd, dscale = −rstd·Σ g·x̂, dw += dy·x̂, db += dy. */
    @Override
    public void layerNormBackwardToScale(Tensor dxc, Tensor dw, Tensor db, Tensor dScale, Tensor dy, Tensor x, Tensor w,
                                         Tensor mean, Tensor rstd, int rows, int width) {
        float[] in = x.data(), grad = dy.data(), out = dxc.data();
        for (int r = 0; r < rows; r++) {
            double rs = rstd.data()[r], sumGx = 0;
            for (int i = 0; i < width; i++) {
                int at = r * width + i;
                double xhat = (in[at] - (double) mean.data()[r]) * rs, g = grad[at] * (w == null ? 1.0 : w.data()[i]);
                sumGx += g * xhat;
                out[at] = (float) (g * rs);
                if (dw != null) dw.data()[i] += (float) (grad[at] * xhat);
                if (db != null) db.data()[i] += grad[at];
            }
            dScale.data()[r] = (float) (-rs * sumGx);
        }
    }

    /** dx_c += dscale·x_c·rstd/C, then dx = dx_c − mean(dx_c). */
    @Override
    public void layerNormBackwardFromScale(Tensor dx, Tensor dScale, Tensor x, Tensor mean, Tensor rstd, int rows, int width) {
        float[] in = x.data(), out = dx.data();
        for (int r = 0; r < rows; r++) {
            double coefficient = (double) dScale.data()[r] * rstd.data()[r] / width, sum = 0;
            double[] row = new double[width];
            for (int i = 0; i < width; i++) {
                row[i] = out[r * width + i] + coefficient * (in[r * width + i] - (double) mean.data()[r]);
                sum += row[i];
            }
            for (int i = 0; i < width; i++) out[r * width + i] = (float) (row[i] - sum / width);
        }
    }

    @Override
    public void rmsNormStatistics(Tensor x, Tensor rstd, int rows, int width, float eps) {
        float[] v = x.data();
        for (int r = 0; r < rows; r++) {
            double squares = 0;
            for (int i = 0; i < width; i++) squares += (double) v[r * width + i] * v[r * width + i];
            rstd.data()[r] = (float) (1 / Math.sqrt(squares / width + eps));
        }
    }

    @Override
    public void rmsNormBackwardFromScale(Tensor dx, Tensor dScale, Tensor x, Tensor rstd, int rows, int width) {
        float[] in = x.data(), out = dx.data();
        for (int r = 0; r < rows; r++) {
            double coefficient = (double) dScale.data()[r] * rstd.data()[r] / width;
            for (int i = 0; i < width; i++) out[r * width + i] = (float) (out[r * width + i] + coefficient * in[r * width + i]);
        }
    }

    @Override
    public void multiply(Tensor a, Tensor b, Tensor out) {
        for (int i = 0; i < a.size(); i++) out.data()[i] = a.data()[i] * b.data()[i];
    }

    @Override
    public void multiplyRows(Tensor x, Tensor w, Tensor y, int rows, int width) {
        for (int r = 0; r < rows; r++) for (int j = 0; j < width; j++) y.data()[r * width + j] = x.data()[r * width + j] * w.data()[j];
    }

    @Override
    public void silu(Tensor x, Tensor y) {
        for (int i = 0; i < x.size(); i++) y.data()[i] = (float) (x.data()[i] / (1 + Math.exp(-(double) x.data()[i])));
    }

    @Override
    public void siluBackward(Tensor x, Tensor dy, Tensor dx) {
        for (int i = 0; i < x.size(); i++) {
            double sigma = 1 / (1 + Math.exp(-(double) x.data()[i]));
            dx.data()[i] = (float) (dx.data()[i] + dy.data()[i] * sigma * (1 + x.data()[i] * (1 - sigma)));
        }
    }

    @Override
    public void gelu(Gelu.Kind kind, Tensor x, Tensor y) {
        Gelu.forwardReference(kind, x.data(), y.data(), x.size());
    }

    @Override
    public void geluBackward(Gelu.Kind kind, Tensor x, Tensor dy, Tensor dx) {
        Gelu.backwardReference(kind, x.data(), dy.data(), dx.data(), x.size());
    }

    @Override
    public void softCap(Tensor x, Tensor y, float cap) {
        SoftCap.forwardReference(x.data(), y.data(), x.size(), cap);
    }

    @Override
    public void softCapBackward(Tensor y, Tensor dy, Tensor dx, float cap) {
        SoftCap.backwardReference(y.data(), dy.data(), dx.data(), y.size(), cap);
    }

    @Override
    public void solu(Tensor x, Tensor y, int rows, int width) {
        Solu.forwardReference(x.data(), y.data(), rows, width);
    }

    @Override
    public void soluBackward(Tensor x, Tensor dy, Tensor dx, int rows, int width) {
        Solu.backwardReference(x.data(), dy.data(), dx.data(), rows, width);
    }

    @Override
    public void rotary(Rotary.Table table, Tensor x, Tensor y, int[] positions, int b, int t, int h, int d) {
        turn(table, x.data(), y.data(), positions, b, t, h, d, 1, false);
    }

    @Override
    public void rotaryBackward(Rotary.Table table, Tensor dy, Tensor dx, int[] positions, int b, int t, int h, int d) {
        turn(table, dy.data(), dx.data(), positions, b, t, h, d, -1, true);
    }

    /** Turns each pair (i, i + rotaryDim/2) of the first rotaryDim dimensions by ±θ from the table; the rest pass. */
    private static void turn(Rotary.Table table, float[] in, float[] out, int[] positions, int b, int t, int h, int d, int direction, boolean accumulate) {
        int half = table.rotaryDim() / 2;
        for (int bt = 0; bt < b * t; bt++) {
            int pos = positions == null ? bt % t : positions[bt];
            for (int head = 0; head < h; head++) {
                int o = (bt * h + head) * d;
                double[] turned = new double[d];
                for (int i = 0; i < d; i++) turned[i] = in[o + i];
                for (int i = 0; i < half; i++) {
                    double cos = table.cos()[pos * half + i], sin = direction * (double) table.sin()[pos * half + i];
                    turned[i] = in[o + i] * cos - in[o + i + half] * sin;
                    turned[i + half] = in[o + i + half] * cos + in[o + i] * sin;
                }
                for (int i = 0; i < d; i++) out[o + i] = (float) (accumulate ? out[o + i] + turned[i] : turned[i]);
            }
        }
    }

    /** Element (batch, position, head, i) of a [B, T, H, D] tensor. */
    private static int qkv(int batch, int pos, int head, int i, int t, int h, int d) {
        return ((batch * t + pos) * h + head) * d + i;
    }

    /** Element (batch, head, query, key) of a [B, H, Tq, Tk] tensor. */
    private static int score(int batch, int head, int query, int key, CausalMask m) {
        return ((batch * m.heads() + head) * m.queries() + query) * m.keys() + key;
    }

    private static void requirePlainKeys(CausalMask m) {
        if (!m.plainKeys()) throw new IllegalArgumentException("a backward takes the keys and values of every head, one row per key");
    }

    private static boolean sees(CausalMask m, int batch, int query, int key) {
        return key >= m.first(batch, query) && key <= m.last(query);
    }

    @Override
    public void attentionScores(Tensor q, Tensor k, Tensor scores, CausalMask m, int d, float scale) {
        int h = m.heads(), tq = m.queries(), tk = m.keys();
        for (int n = 0; n < m.batch(); n++) for (int head = 0; head < h; head++) for (int i = 0; i < tq; i++) for (int j = 0; j < tk; j++) {
            double dot = 0;
            for (int c = 0; c < d; c++) dot += (double) q.data()[qkv(n, i, head, c, tq, h, d)] * k.data()[m.keyOffset(n, head, d) + j * m.keyStride(d) + c];
            scores.data()[score(n, head, i, j, m)] = sees(m, n, i, j) ? (float) (dot * scale) : Float.NEGATIVE_INFINITY;
        }
    }

    @Override
    public void attentionPattern(Tensor scores, Tensor pattern, CausalMask m) {
        float[] s = scores.data(), p = pattern.data();
        for (int n = 0; n < m.batch(); n++) for (int head = 0; head < m.heads(); head++) for (int i = 0; i < m.queries(); i++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < m.keys(); j++) if (sees(m, n, i, j)) max = Math.max(max, s[score(n, head, i, j, m)]);
            for (int j = 0; j < m.keys(); j++) if (sees(m, n, i, j)) sum += Math.exp(s[score(n, head, i, j, m)] - max);
            for (int j = 0; j < m.keys(); j++) {
                p[score(n, head, i, j, m)] = sees(m, n, i, j) ? (float) (Math.exp(s[score(n, head, i, j, m)] - max) / sum) : 0;
            }
        }
    }

    @Override
    public void attentionMix(Tensor pattern, Tensor v, Tensor z, CausalMask m, int d) {
        int h = m.heads(), tq = m.queries(), tk = m.keys();
        for (int n = 0; n < m.batch(); n++) for (int head = 0; head < h; head++) for (int i = 0; i < tq; i++) for (int c = 0; c < d; c++) {
            double sum = 0;
            for (int j = 0; j < tk; j++) sum += (double) pattern.data()[score(n, head, i, j, m)] * v.data()[m.keyOffset(n, head, d) + j * m.keyStride(d) + c];
            z.data()[qkv(n, i, head, c, tq, h, d)] = (float) sum;
        }
    }

    /** dpattern[i, j] += dz[i]·v[j]; dv[j] += Σ_i pattern[i, j]·dz[i]. */
    @Override
    public void attentionMixBackward(Tensor dz, Tensor pattern, Tensor v, Tensor dpattern, Tensor dv, CausalMask m, int d) {
        requirePlainKeys(m);
        int h = m.heads(), tq = m.queries(), tk = m.keys();
        for (int n = 0; n < m.batch(); n++) for (int head = 0; head < h; head++) for (int i = 0; i < tq; i++) for (int j = 0; j < tk; j++) {
            double dot = 0;
            for (int c = 0; c < d; c++) dot += (double) dz.data()[qkv(n, i, head, c, tq, h, d)] * v.data()[qkv(n, j, head, c, tk, h, d)];
            dpattern.data()[score(n, head, i, j, m)] += (float) dot;
        }
        for (int n = 0; n < m.batch(); n++) for (int head = 0; head < h; head++) for (int j = 0; j < tk; j++) for (int c = 0; c < d; c++) {
            double sum = 0;
            for (int i = 0; i < tq; i++) sum += (double) pattern.data()[score(n, head, i, j, m)] * dz.data()[qkv(n, i, head, c, tq, h, d)];
            dv.data()[qkv(n, j, head, c, tk, h, d)] += (float) sum;
        }
    }

    /** dscores[i, j] += p[i, j]·(dp[i, j] − Σ_k p[i, k]·dp[i, k]) over the keys query i sees. */
    @Override
    public void attentionPatternBackward(Tensor pattern, Tensor dpattern, Tensor dscores, CausalMask m) {
        float[] p = pattern.data(), dp = dpattern.data();
        for (int n = 0; n < m.batch(); n++) for (int head = 0; head < m.heads(); head++) for (int i = 0; i < m.queries(); i++) {
            double inner = 0;
            for (int j = 0; j < m.keys(); j++) if (sees(m, n, i, j)) inner += (double) p[score(n, head, i, j, m)] * dp[score(n, head, i, j, m)];
            for (int j = 0; j < m.keys(); j++) {
                if (!sees(m, n, i, j)) continue;
                int at = score(n, head, i, j, m);
                dscores.data()[at] += (float) (p[at] * (dp[at] - inner));
            }
        }
    }

    /** dq[i] += scale·Σ_j dscores[i, j]·k[j]; dk[j] += scale·Σ_i dscores[i, j]·q[i] (dscores is 0 where masked in a model). */
    @Override
    public void attentionScoresBackward(Tensor dscores, Tensor q, Tensor k, Tensor dq, Tensor dk, CausalMask m, int d, float scale) {
        requirePlainKeys(m);
        int h = m.heads(), tq = m.queries(), tk = m.keys();
        for (int n = 0; n < m.batch(); n++) for (int head = 0; head < h; head++) for (int c = 0; c < d; c++) {
            for (int i = 0; i < tq; i++) {
                double sum = 0;
                for (int j = 0; j < tk; j++) sum += (double) dscores.data()[score(n, head, i, j, m)] * k.data()[qkv(n, j, head, c, tk, h, d)];
                dq.data()[qkv(n, i, head, c, tq, h, d)] += (float) (sum * scale);
            }
            for (int j = 0; j < tk; j++) {
                double sum = 0;
                for (int i = 0; i < tq; i++) sum += (double) dscores.data()[score(n, head, i, j, m)] * q.data()[qkv(n, i, head, c, tq, h, d)];
                dk.data()[qkv(n, j, head, c, tk, h, d)] += (float) (sum * scale);
            }
        }
    }

    @Override
    public void embed(Tensor table, int[] tokens, Tensor out) {
        int d = table.dim(1);
        for (int i = 0; i < tokens.length; i++) for (int c = 0; c < d; c++) out.data()[i * d + c] = table.data()[tokens[i] * d + c];
    }

    @Override
    public void embedBackward(Tensor dOut, int[] tokens, Tensor grad) {
        int d = grad.dim(1);
        for (int i = 0; i < tokens.length; i++) for (int c = 0; c < d; c++) grad.data()[tokens[i] * d + c] += dOut.data()[i * d + c];
    }

    @Override
    public double[] crossEntropy(Tensor logits, int[] targets, float scale, Tensor grad) {
        int vocab = logits.dim(-1);
        float[] l = logits.data(), g = grad.data();
        double[] loss = new double[targets.length];
        for (int row = 0; row < targets.length; row++) {
            int at = row * vocab;
            if (targets[row] < 0) {
                for (int i = 0; i < vocab; i++) g[at + i] = 0;
                continue;
            }
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < vocab; i++) max = Math.max(max, l[at + i]);
            for (int i = 0; i < vocab; i++) sum += Math.exp(l[at + i] - max);
            double logSum = max + Math.log(sum);
            loss[row] = logSum - l[at + targets[row]];
            for (int i = 0; i < vocab; i++) g[at + i] = (float) ((Math.exp(l[at + i] - logSum) - (i == targets[row] ? 1 : 0)) * scale);
        }
        return loss;
    }

    @Override
    public void adamw(Tensor w, Tensor g, Tensor m, Tensor v, AdamWUpdate.Step s) {
        float[] wv = w.data(), gv = g.data(), mv = m.data(), vv = v.data();
        for (int i = 0; i < wv.length; i++) {
            mv[i] = (float) (s.beta1() * (double) mv[i] + (1 - (double) s.beta1()) * gv[i]);
            vv[i] = (float) (s.beta2() * (double) vv[i] + (1 - (double) s.beta2()) * gv[i] * gv[i]);
            double adam = (mv[i] / (double) s.c1()) / (Math.sqrt(vv[i] / (double) s.c2()) + s.eps());
            wv[i] = (float) (wv[i] - s.lr() * (adam + (double) s.weightDecay() * wv[i]));
        }
    }

    @Override
    public double sumOfSquares(List<Tensor> tensors) {
        double sum = 0;
        for (Tensor t : tensors) for (float x : t.data()) sum += (double) x * x;
        return sum;
    }

    @Override
    public void scale(Tensor t, float factor) {
        float[] v = t.data();
        for (int i = 0; i < v.length; i++) v[i] *= factor;
    }
}
