package dev.jlens.analysis.sae;

import dev.jlens.engine.Device;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookHandle;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.engine.hooks.Splice;
import dev.jlens.models.HookedTransformer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An SAE spliced into a model at its hook, as HookedSAETransformer's {@code add_sae}: the
 * activation flowing on is the SAE's reconstruction, or, with {@code use_error_term}, the
 * reconstruction plus the error (the activation minus a clean reconstruction, computed without
 * the SAE's hooks and carrying no gradient), so that the model's output is unchanged while the
 * features can be read, patched and differentiated. The SAE's own hook points are named under
 * the hook ({@code blocks.8.hook_resid_pre.hook_sae_acts_post}) and, backward, the gradient
 * reaches the input through the encoder and decoder, never around them. Closing takes the SAE
 * out again.
 * <pre>{@code
 * try (SaeSplice spliced = SaeSplice.attach(model, sae, true)) {
 *     model.runWithCache(tokens, NameFilter.all());
 * }
 * }</pre>
 */
public final class SaeSplice implements Splice, AutoCloseable {
    /** The SAE's hook points, in the order its forward reaches them, after the name of the hook it sits at. */
    public static final List<String> HOOKS = List.of("hook_sae_input", "hook_sae_acts_pre", "hook_sae_acts_post", "hook_sae_recons",
            "hook_sae_error", "hook_sae_output");

    private final Sae sae;
    private final String hook;
    private final boolean useErrorTerm;
    private final HookPoint input, actsPre, actsPost, recons, error, output;
    private final List<HookHandle> handles = new ArrayList<>();
    /**
     * What backward needs from the forward that kept: the centred input, the activations as the
     * decoder read them (after hook_sae_acts_post) and as the activation function made them (whose
     * mask is its derivative), and the input's shape.
     */
    private Tensor savedCentered, savedActs, savedActive;
    private int[] savedShape;

    private SaeSplice(Sae sae, String hook, boolean useErrorTerm, List<HookPoint> points) {
        this.sae = sae;
        this.hook = hook;
        this.useErrorTerm = useErrorTerm;
        input = points.get(0);
        actsPre = points.get(1);
        actsPost = points.get(2);
        recons = points.get(3);
        error = points.get(4);
        output = points.get(5);
    }

    /** Splices {@code sae} in at its own hook. */
    public static SaeSplice attach(HookedTransformer model, Sae sae, boolean useErrorTerm) {
        if (sae.cfg().hookName() == null) throw new JlensException("the SAE names no hook to splice it at; give it one (--hook).");
        return attach(model, sae, sae.cfg().hookName(), useErrorTerm);
    }

    /** Splices {@code sae} in at {@code hook}, after checking that the hook carries d_in values per position. */
    public static SaeSplice attach(HookedTransformer model, Sae sae, String hook, boolean useErrorTerm) {
        if (model.device() != Device.CPU) throw new JlensException("SAEs run on the CPU in this version of jlens; run the model with --device cpu.");
        HookPoints points = model.hookPoints();
        HookPoint at = points.get(hook);
        HookWidths.require(model.cfg(), hook, sae.cfg());
        List<HookPoint> created = new ArrayList<>();
        String[] names = HOOKS.stream().map(name -> hook + "." + name).toArray(String[]::new);
        HookHandle registered = points.insertAfter(hook, created, names);
        SaeSplice splice = new SaeSplice(sae, hook, useErrorTerm, created);
        try {
            splice.handles.add(at.splice(splice));
        } catch (RuntimeException e) {
            registered.close();
            throw e;
        }
        splice.handles.add(registered);
        return splice;
    }

    /** The splice alone, its hook points in no model: for running an SAE as a module of its own. */
    static SaeSplice detached(Sae sae, boolean useErrorTerm) {
        String hook = sae.cfg().hookName() == null ? "sae" : sae.cfg().hookName();
        return new SaeSplice(sae, hook, useErrorTerm, HOOKS.stream().map(name -> new HookPoint(hook + "." + name)).toList());
    }

    public Sae sae() {
        return sae;
    }

    public String hook() {
        return hook;
    }

    /** The full name of one of the SAE's hook points, e.g. {@code hookName("hook_sae_acts_post")}. */
    public String hookName(String point) {
        if (!HOOKS.contains(point)) throw new IllegalArgumentException(point + " is not an SAE hook point");
        return hook + "." + point;
    }

    @Override
    public Tensor forward(Tensor activation, boolean keepForBackward) {
        int dIn = sae.cfg().dIn(), dSae = sae.cfg().dSae();
        int[] lead = leading(activation);
        long width = activation.elements() / Math.max(1, java.util.Arrays.stream(lead).asLongStream().reduce(1, (a, b) -> a * b));
        if (width != dIn) throw new JlensException("the SAE's d_in is " + dIn + ", but " + hook + " carries " + width + " values per position.");
        Tensor x = input.forward(activation.reshape(with(lead, dIn)));
        Tensor c = sae.centered(x);
        Tensor pre = actsPre.forward(sae.preActivations(c).reshape(with(lead, dSae)));
        Tensor active = sae.activate(pre, sae.gate(c)).reshape(with(lead, dSae));
        Tensor acts = actsPost.forward(active);
        Tensor out = recons.forward(sae.decode(acts).reshape(with(lead, dIn)));
        if (useErrorTerm) {
            // The error is the input minus the reconstruction as the SAE makes it with no hook in the way.
            Tensor clean = hooked() ? sae.decode(sae.encode(activation.reshape(with(lead, dIn)))) : out;
            Tensor difference = activation.reshape(with(lead, dIn)).copy();
            subtract(difference, clean);
            out = out.plus(error.forward(difference.reshape(with(lead, dIn))));
        }
        out = output.forward(out);
        savedCentered = keepForBackward ? c : null;
        savedActs = keepForBackward ? acts : null;
        savedActive = keepForBackward ? active : null;
        savedShape = keepForBackward ? activation.shape() : null;
        return out.reshape(activation.shape());
    }

    @Override
    public Tensor backward(Tensor gradient) {
        if (savedShape == null) throw new IllegalStateException("the SAE at " + hook + " kept nothing for backward");
        int dIn = sae.cfg().dIn(), dSae = sae.cfg().dSae();
        int[] lead = leading(gradient);
        Tensor d = output.backward(gradient.reshape(with(lead, dIn)));
        // The error carries no gradient on (SAELens computes it under no_grad), but its hook sees what reaches it.
        if (useErrorTerm) error.backward(d);
        Tensor dActs = actsPost.backward(sae.decodeBackward(savedActs, recons.backward(d)).reshape(with(lead, dSae)));
        Tensor dPre = actsPre.backward(Sae.activateBackward(savedActive, dActs).reshape(with(lead, dSae)));
        Tensor dX = input.backward(sae.centeredBackward(sae.preActivationsBackward(savedCentered, dPre)).reshape(with(lead, dIn)));
        int[] shape = savedShape;
        savedCentered = savedActs = savedActive = null;
        savedShape = null;
        return dX.reshape(shape);
    }

    /** Whether a forward hook sits on any of the SAE's own points (then the clean reconstruction is computed apart). */
    private boolean hooked() {
        for (HookPoint p : List.of(input, actsPre, actsPost, recons)) if (p.hasForwardHooks()) return true;
        return false;
    }

    /** The activation's dimensions before its d_in values ([batch, pos]; hook_z's heads and d_head are the d_in). */
    private int[] leading(Tensor t) {
        int[] shape = t.shape();
        int cut = sae.cfg().hookZ() && shape.length >= 2 && shape.length == 4 ? shape.length - 2 : shape.length - 1;
        return Arrays.copyOf(shape, cut);
    }

    private static int[] with(int[] lead, int last) {
        int[] shape = Arrays.copyOf(lead, lead.length + 1);
        shape[lead.length] = last;
        return shape;
    }

    private static void subtract(Tensor a, Tensor b) {
        float[] x = a.data(), y = b.data();
        for (int i = 0; i < x.length; i++) x[i] -= y[i];
    }

    @Override
    public void close() {
        for (int i = handles.size() - 1; i >= 0; i--) handles.get(i).close();
        handles.clear();
    }
}
