package dev.jlens.cli;

import dev.jlens.engine.JlensException;

/** Range checks on number flags, so that every command words them alike and makes them before any work. */
final class NumberFlag {
    private NumberFlag() {}

    /** One sentence naming the flag, its range and the value given, unless {@code ok}. */
    static void require(boolean ok, String flag, long value, String range) {
        if (!ok) throw new JlensException(flag + " must be " + range + ", not " + value + ".");
    }

    /** A --layer and --neuron the user gave (null: not given) must name an MLP neuron of the model. */
    static void requireInModel(dev.jlens.models.loading.LoadedModel loaded, Integer layer, Integer neuron) {
        dev.jlens.models.Config c = loaded.model().cfg();
        if (layer != null) require(layer < c.nLayers(), "--layer", layer, "below " + c.nLayers() + " (the model's layers)");
        if (neuron != null) require(neuron < c.dMlp(), "--neuron", neuron, "below " + c.dMlp() + " (the model's neurons per layer)");
    }
}
