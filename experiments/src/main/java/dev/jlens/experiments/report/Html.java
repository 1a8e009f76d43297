package dev.jlens.experiments.report;

public final class Html {
    private Html() {}

    public static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
