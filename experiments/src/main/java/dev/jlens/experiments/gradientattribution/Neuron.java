package dev.jlens.experiments.gradientattribution;

import dev.jlens.engine.JlensException;

/** A neuron of an MLP layer, written as the notebooks write it: L11N369. */
public record Neuron(int layer, int index) {
    public static Neuron parse(String s) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("L(\\d+)N(\\d+)").matcher(s.trim());
        if (!m.matches()) throw new JlensException("'" + s + "' is not a neuron; write it as L<layer>N<index>, e.g. L7N1137.");
        return new Neuron(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }

    @Override
    public String toString() {
        return "L" + layer + "N" + index;
    }
}
