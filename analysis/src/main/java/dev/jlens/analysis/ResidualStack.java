package dev.jlens.analysis;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Tensor;
import java.util.List;

/** Components of the residual stream with their labels: values [components, batch, pos, d_model]. */
public record ResidualStack(Tensor values, List<String> labels) {
    public ResidualStack {
        if (values.dim(0) != labels.size()) {
            throw new IllegalArgumentException(values.dim(0) + " components but " + labels.size() + " labels");
        }
    }

    /** Σ over components: [batch, pos, d_model]. */
    public Tensor sum() {
        int n = values.dim(0), each = values.size() / Math.max(1, n);
        Backend ops = Backend.of(values);
        Tensor out = ops.zeros(values.dim(1), values.dim(2), values.dim(3));
        for (int c = 0; c < n; c++) ops.add(values, c * each, out, 0, each);
        return out;
    }
}
