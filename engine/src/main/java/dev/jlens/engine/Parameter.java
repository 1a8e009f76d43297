package dev.jlens.engine;

/**
 * A named weight and its gradient, of the same shape. The gradient is allocated the first time it
 * is asked for, so a model that only runs forward carries no gradient memory. Backward passes
 * accumulate into {@link #grad()}; {@link #zeroGrad()} is the separate, flat step that clears it.
 * As PyTorch's requires_grad, {@link #setRequiresGrad} says whether backward passes compute this
 * parameter's gradient at all: analyses that want gradients at activations only switch it off, and
 * no gradient memory is made.
 */
public final class Parameter {
    private final String name;
    private final Tensor value;
    private Tensor grad;
    private boolean requiresGrad = true;

    private Parameter(String name, Tensor value) {
        this.name = name;
        this.value = value;
    }

    public static Parameter of(String name, Tensor value) {
        return new Parameter(name, value);
    }

    public String name() {
        return name;
    }

    public Tensor value() {
        return value;
    }

    /** The gradient, zeros until a backward accumulates into it; made where the value is. */
    public Tensor grad() {
        if (!requiresGrad) throw new IllegalStateException(name + " does not require a gradient");
        if (grad == null) grad = Backend.of(value).zeros(value.shape());
        return grad;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Whether backward passes compute this gradient; switching it off drops the gradient held. */
    public void setRequiresGrad(boolean on) {
        requiresGrad = on;
        if (!on) grad = null;
    }

    /** Whether gradient memory is held now. */
    public boolean hasGrad() {
        return grad != null;
    }

    public void zeroGrad() {
        if (grad != null) Backend.of(grad).zero(grad);
    }

    /** Moves the value, and the gradient if there is one, to the device. */
    public void moveTo(Device device) {
        Backend backend = Backend.of(device);
        backend.place(value);
        if (grad != null) backend.place(grad);
    }

    @Override
    public String toString() {
        return "Parameter(" + name + ", " + value.shapeString() + ")";
    }
}
