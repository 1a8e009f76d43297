package dev.jlens.analysis.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.testkit.FiniteDifferences;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Each architecture's forward against a double reference written from SAELens's formulas, and its backward against finite differences. */
class SaeTest {
    static final int D_IN = 6, D_SAE = 12;

    /** SAELens's encode and decode of one row, in double. */
    static double[][] reference(SaeConfig cfg, Map<String, Tensor> w, float[] x, int row) {
        int in = cfg.dIn(), f = cfg.dSae();
        float[] wEnc = w.get("W_enc").data(), wDec = w.get("W_dec").data(), bDec = w.get("b_dec").data();
        double[] c = new double[in];
        for (int i = 0; i < in; i++) c[i] = x[row * in + i] - (cfg.applyBDecToInput() ? bDec[i] : 0);
        double[] pre = new double[f], gate = new double[f], acts = new double[f];
        for (int j = 0; j < f; j++) {
            double mag = cfg.architecture() == SaeArchitecture.GATED ? Math.exp(w.get("r_mag").data()[j]) : 1;
            double sum = cfg.architecture() == SaeArchitecture.GATED ? w.get("b_mag").data()[j] : w.get("b_enc").data()[j];
            double g = cfg.architecture() == SaeArchitecture.GATED ? w.get("b_gate").data()[j] : 0;
            for (int i = 0; i < in; i++) {
                sum += c[i] * wEnc[i * f + j] * mag;
                g += c[i] * wEnc[i * f + j];
            }
            pre[j] = sum;
            gate[j] = g;
        }
        for (int j = 0; j < f; j++) {
            double relu = Math.max(pre[j], 0);
            acts[j] = switch (cfg.architecture()) {
                case STANDARD -> relu;
                case JUMPRELU -> pre[j] > w.get("threshold").data()[j] ? relu : 0;
                case GATED -> gate[j] > 0 ? relu : 0;
                case TOPK -> {
                    int above = 0;
                    for (int q = 0; q < f; q++) if (pre[q] > pre[j]) above++;
                    yield above < cfg.k() ? relu : 0;
                }
            };
        }
        double[] recon = new double[in];
        for (int i = 0; i < in; i++) {
            double sum = bDec[i];
            for (int j = 0; j < f; j++) sum += acts[j] * wDec[j * in + i];
            recon[i] = sum;
        }
        return new double[][] {acts, recon};
    }

    @ParameterizedTest
    @EnumSource(SaeArchitecture.class)
    void encodeAndDecodeMatchSaeLensFormulasInDouble(SaeArchitecture architecture) {
        SaeConfig cfg = SaeFixtures.config(architecture, D_IN, D_SAE, "blocks.0.hook_resid_pre");
        Map<String, Tensor> w = SaeFixtures.weights(cfg, 4);
        Sae sae = Sae.of(cfg, w, "test");
        Tensor x = SaeFixtures.random(new SplittableRandom(5), 1.0, 3, 4, D_IN);
        Tensor acts = sae.encode(x), recon = sae.decode(acts);
        int active = 0;
        for (int row = 0; row < 12; row++) {
            double[][] ref = reference(cfg, w, x.data(), row);
            for (int j = 0; j < D_SAE; j++) {
                assertEquals(ref[0][j], acts.data()[row * D_SAE + j], 1e-5, "acts row " + row + " feature " + j);
                if (ref[0][j] > 0) active++;
            }
            for (int i = 0; i < D_IN; i++) assertEquals(ref[1][i], recon.data()[row * D_IN + i], 1e-5, "recon row " + row);
        }
        assertTrue(active > 12 && active < 12 * D_SAE, "the fixture leaves some features on and some off: " + active);
        if (architecture == SaeArchitecture.TOPK) assertTrue(active <= 12 * cfg.k());
    }

    /**
     * L = Σ r·out(x) through the splice's forward and backward (hooks unused): dL/dx, and for the
     * trainable architectures dL/dW_enc, b_enc, W_dec, b_dec, against Richardson-extrapolated
     * central differences.
     */
    @ParameterizedTest
    @EnumSource(SaeArchitecture.class)
    void backwardMatchesFiniteDifferences(SaeArchitecture architecture) {
        Sae sae = SaeFixtures.sae(architecture, D_IN, D_SAE, "blocks.0.hook_resid_pre", 6);
        SaeSplice splice = SaeSplice.detached(sae, false);
        Tensor x = SaeFixtures.random(new SplittableRandom(7), 1.0, 2, 3, D_IN);
        float[] r = SaeFixtures.random(new SplittableRandom(8), 1.0, 2 * 3 * D_IN).data();
        splice.forward(x, true);
        Tensor dx = splice.backward(Tensor.of(r.clone(), 2, 3, D_IN));
        java.util.function.DoubleSupplier loss = () -> FiniteDifferences.weighted(splice.forward(x, false).data(), r);
        FiniteDifferences.check("x", x.data(), dx.data(), all(x.data().length), 1e-3f, loss, 1e-3, 2e-4);
        if (architecture == SaeArchitecture.GATED || architecture == SaeArchitecture.JUMPRELU) return;
        for (Parameter p : sae.parameters().values()) {
            FiniteDifferences.check(p.name(), p.value().data(), p.grad().data(), all(p.value().data().length), 1e-3f, loss, 1e-3, 2e-4);
        }
    }

    static int[] all(int n) {
        int[] i = new int[n];
        for (int k = 0; k < n; k++) i[k] = k;
        return i;
    }
}
