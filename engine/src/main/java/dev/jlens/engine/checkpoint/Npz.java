package dev.jlens.engine.checkpoint;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * numpy's {@code .npz} (a zip of {@code .npy} arrays, stored or deflated) and {@code .npy} format:
 * the magic string, a version, a header dict ({@code descr}, {@code fortran_order}, {@code shape})
 * and the raw values. Floating-point arrays (float16, float32, float64, either byte order, C or
 * Fortran order) are read as float32 tensors in C order; anything else — a malformed header, an
 * integer or object dtype, fewer bytes than the shape needs — is refused in one sentence naming the
 * file and the array.
 */
public final class Npz {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** The largest array read: what one float array holds. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([a-zA-Z])(\\d+)'"),
            FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)"), SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npz() {}

    /** Every array of an npz file, by name (the entry's name less ".npy"), in the zip's order. */
    public static Map<String, Tensor> read(Path file) {
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                if (entry.isDirectory()) continue;
                String name = entry.getName().endsWith(".npy") ? entry.getName().substring(0, entry.getName().length() - 4) : entry.getName();
                try (InputStream in = zip.getInputStream(entry)) {
                    arrays.put(name, npy(in, file + ": array " + JlensException.quote(name)));
                }
            }
        } catch (ZipException e) {
            throw new JlensException(file + ": is not an npz file (a zip of .npy arrays): " + JlensException.describe(e) + ".", e);
        } catch (IOException e) {
            throw new JlensException(file + ": cannot be read (" + JlensException.describe(e) + ").", e);
        }
        if (arrays.isEmpty()) throw new JlensException(file + ": holds no arrays.");
        return arrays;
    }

    /** One {@code .npy} array from a stream; {@code what} names it in errors ("FILE: array 'W_enc'"). */
    public static Tensor npy(InputStream in, String what) throws IOException {
        byte[] start = in.readNBytes(8);
        if (start.length < 8 || !java.util.Arrays.equals(java.util.Arrays.copyOf(start, 6), MAGIC)) {
            throw new JlensException(what + " does not start with numpy's magic string, so it is not a .npy array.");
        }
        int major = start[6];
        if (major < 1 || major > 3) throw new JlensException(what + " is .npy format version " + major + "." + start[7] + ", which jlens does not read (1 to 3).");
        int lengthBytes = major == 1 ? 2 : 4;
        byte[] len = in.readNBytes(lengthBytes);
        if (len.length < lengthBytes) throw new JlensException(what + " ends inside its header.");
        long headerLength = major == 1 ? (len[0] & 0xFF) | (len[1] & 0xFF) << 8 : ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
        if (headerLength > 1 << 20) throw new JlensException(what + " declares a header of " + headerLength + " bytes, more than a .npy header holds.");
        byte[] headerBytes = in.readNBytes((int) headerLength);
        if (headerBytes.length < headerLength) throw new JlensException(what + " ends inside its header.");
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).strip();
        if (!header.startsWith("{") || !header.endsWith("}")) throw new JlensException(what + " has a malformed header (not a dict): " + quote(header) + ".");
        Matcher descr = DESCR.matcher(header), fortran = FORTRAN.matcher(header), shape = SHAPE.matcher(header);
        if (!descr.find() || !fortran.find() || !shape.find()) {
            throw new JlensException(what + " has a malformed header (it needs 'descr', 'fortran_order' and 'shape'): " + quote(header) + ".");
        }
        char order = descr.group(1).charAt(0), kind = descr.group(2).charAt(0);
        int size = Integer.parseInt(descr.group(3));
        if (kind != 'f' || (size != 2 && size != 4 && size != 8)) {
            throw new JlensException(what + " has dtype '" + descr.group(1) + descr.group(2) + size + "'; jlens reads floating-point arrays (float16, float32, float64).");
        }
        int[] dims = dims(shape.group(1), what);
        long elements = 1;
        for (int d : dims) {
            elements *= d;
            if (elements > MAX_ELEMENTS) throw new JlensException(what + " has more elements than one array holds.");
        }
        byte[] data = in.readNBytes((int) (elements * size));
        if (data.length < elements * size) {
            throw new JlensException(what + " is truncated: its shape " + java.util.Arrays.toString(dims) + " needs " + elements * size + " bytes, and "
                    + data.length + " are there.");
        }
        ByteBuffer buf = ByteBuffer.wrap(data).order(order == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[(int) elements];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (size) {
                case 2 -> Float.float16ToFloat(buf.getShort());
                case 4 -> buf.getFloat();
                default -> (float) buf.getDouble();
            };
        }
        if (Boolean.parseBoolean(fortran.group(1).toLowerCase(java.util.Locale.ROOT)) && dims.length > 1) values = toRowMajor(values, dims);
        return Tensor.of(values, dims.length == 0 ? new int[] {1} : dims);
    }

    private static int[] dims(String tuple, String what) {
        List<Integer> dims = new ArrayList<>();
        for (String part : tuple.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            if (!p.matches("\\d{1,10}")) throw new JlensException(what + " has a malformed shape, " + JlensException.quote(tuple.strip()) + ".");
            long d = Long.parseLong(p);
            if (d > Integer.MAX_VALUE) throw new JlensException(what + " has a dimension of " + d + ", more than jlens holds.");
            dims.add((int) d);
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Values stored column-major (Fortran order) rearranged into row-major order. */
    private static float[] toRowMajor(float[] v, int[] dims) {
        float[] out = new float[v.length];
        int rank = dims.length;
        int[] index = new int[rank];
        for (int f = 0; f < v.length; f++) {
            // f walks the Fortran order: the first index fastest; its row-major position is computed from the same index.
            long c = 0;
            for (int k = 0; k < rank; k++) c = c * dims[k] + index[k];
            out[(int) c] = v[f];
            for (int k = 0; k < rank && ++index[k] == dims[k]; k++) index[k] = 0;
        }
        return out;
    }

    private static String quote(String s) {
        return JlensException.quote(s.length() > 120 ? s.substring(0, 120) + "..." : s);
    }
}
