package dev.jlens.spark;

import java.io.Serializable;

/** One row of {@code jlens spark activations}: the activation of one hook point at one position of one document. */
public final class ActivationRow implements Serializable {
    private long doc;
    private int pos;
    private int token;
    private String hook;
    private float[] values;

    public ActivationRow() {}

    public ActivationRow(long doc, int pos, int token, String hook, float[] values) {
        this.doc = doc;
        this.pos = pos;
        this.token = token;
        this.hook = hook;
        this.values = values;
    }

    public long getDoc() { return doc; }
    public void setDoc(long doc) { this.doc = doc; }
    public int getPos() { return pos; }
    public void setPos(int pos) { this.pos = pos; }
    public int getToken() { return token; }
    public void setToken(int token) { this.token = token; }
    public String getHook() { return hook; }
    public void setHook(String hook) { this.hook = hook; }
    public float[] getValues() { return values; }
    public void setValues(float[] values) { this.values = values; }
}
