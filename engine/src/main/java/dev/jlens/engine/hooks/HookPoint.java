package dev.jlens.engine.hooks;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * An identity around one activation, named by its path ({@code blocks.3.mlp.hook_post}). With no
 * hooks it returns what it is given; hooks run in the order they were added, each seeing what
 * the previous one returned. A {@link Splice} attached here runs after the forward hooks (which
 * see the model's own activation) and, backward, before the backward hooks (which see the
 * gradient with respect to that activation).
 */
public final class HookPoint {
    private final String name;
    private final HookPoints owner;
    private final List<ForwardHook> forwardHooks = new ArrayList<>();
    private final List<BackwardHook> backwardHooks = new ArrayList<>();
    private Splice splice;

    public HookPoint(String name) {
        this(name, null);
    }

    HookPoint(String name, HookPoints owner) {
        this.name = name;
        this.owner = owner;
    }

    public String name() {
        return name;
    }

    /** The activation after every forward hook has seen it. */
    public Tensor forward(Tensor activation) {
        Tensor current = activation;
        for (ForwardHook hook : List.copyOf(forwardHooks)) {
            Tensor replaced = hook.apply(current, this);
            if (replaced != null) current = checkShape(replaced, current, "an activation");
        }
        if (splice != null) current = checkShape(splice.forward(current, owner != null && owner.keepingForBackward()), current, "an activation");
        return current;
    }

    /** The gradient after every backward hook has seen it. */
    public Tensor backward(Tensor gradient) {
        Tensor current = splice == null ? gradient : checkShape(splice.backward(gradient), gradient, "a gradient");
        for (BackwardHook hook : List.copyOf(backwardHooks)) {
            Tensor replaced = hook.apply(current, this);
            if (replaced != null) current = checkShape(replaced, current, "a gradient");
        }
        return current;
    }

    public boolean hasForwardHooks() {
        return !forwardHooks.isEmpty();
    }

    public boolean hasBackwardHooks() {
        return !backwardHooks.isEmpty();
    }

    /** Adds a forward hook; closing the handle removes it. Prefer a {@link HookScope}. */
    public HookHandle addForward(ForwardHook hook) {
        forwardHooks.add(hook);
        return () -> forwardHooks.remove(hook);
    }

    /** Adds a backward hook; closing the handle removes it. Prefer a {@link HookScope}. */
    public HookHandle addBackward(BackwardHook hook) {
        backwardHooks.add(hook);
        return () -> backwardHooks.remove(hook);
    }

    /** Splices {@code module} in here; closing the handle takes it out. */
    public HookHandle splice(Splice module) {
        if (splice != null) throw new JlensException(name + " already has a module spliced in; take it out before splicing another.");
        splice = module;
        return () -> {
            if (splice == module) splice = null;
        };
    }

    public boolean hasSplice() {
        return splice != null;
    }

    private Tensor checkShape(Tensor replaced, Tensor original, String what) {
        if (!replaced.hasShape(original.shape())) {
            throw new JlensException("a hook on " + name + " returned shape " + replaced.shapeString()
                    + " for " + what + " of shape " + original.shapeString() + ".");
        }
        return replaced;
    }

    @Override
    public String toString() {
        return "HookPoint(" + name + ")";
    }
}
