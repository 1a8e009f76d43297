package dev.jlens.engine.checkpoint;

import dev.jlens.engine.JlensException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle reader that builds data and never runs code. Python's pickle calls whatever global a
 * file names; this reader knows only the handful a tensor state dict needs (an ordered dict, the
 * tensor rebuild functions, storage types) and refuses any other global by name, so a malicious
 * checkpoint fails to load instead of executing.
 */
final class Unpickler {
    /** A tensor's storage, as named by a persistent id: its type, and its key in the archive. */
    record StorageRef(String type, String key, long elements) {}

    /** torch._utils._rebuild_tensor_v2's arguments: a strided view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    /** A global that is allowed to be named: a storage class or a callable jlens evaluates itself. */
    private record Global(String module, String name) {}

    private static final Set<String> STORAGES = Set.of("FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage",
            "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage");
    private static final Object MARK = new Object();

    private final ByteBuffer in;
    private final String source;
    private final Deque<Object> stack = new ArrayDeque<>();
    private final Map<Integer, Object> memo = new HashMap<>();

    private Unpickler(byte[] bytes, String source) {
        this.in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        this.source = source;
    }

    static Object load(byte[] bytes, String source) {
        try {
            return new Unpickler(bytes, source).run();
        } catch (java.nio.BufferUnderflowException e) {
            throw new JlensException(source + ": is not a readable pickle (it ends in the middle of an instruction).", e);
        } catch (ClassCastException | java.util.NoSuchElementException | IndexOutOfBoundsException | UnsupportedOperationException
                 | NullPointerException e) {
            // Each instruction takes what the ones before it left on the stack; a hostile file can leave anything there.
            throw new JlensException(source + ": is not a readable pickle (an instruction finds on the stack what it cannot use).", e);
        }
    }

    private Object run() {
        while (true) {
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> in.get(); // PROTO
                case 0x95 -> in.getLong(); // FRAME
                case '.' -> { // STOP
                    return stack.pop();
                }
                case '(' -> stack.push(MARK);
                case '}' -> stack.push(new LinkedHashMap<>()); // EMPTY_DICT
                case ']' -> stack.push(new ArrayList<>()); // EMPTY_LIST
                case ')' -> stack.push(List.of()); // EMPTY_TUPLE
                case 'N' -> stack.push(None.NONE);
                case 0x88 -> stack.push(Boolean.TRUE);
                case 0x89 -> stack.push(Boolean.FALSE);
                case 'K' -> stack.push((long) (in.get() & 0xff)); // BININT1
                case 'M' -> stack.push((long) (in.getShort() & 0xffff)); // BININT2
                case 'J' -> stack.push((long) in.getInt()); // BININT
                case 0x8a -> stack.push(long1(in.get() & 0xff)); // LONG1
                case 'G' -> stack.push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT, big-endian
                case 'X' -> stack.push(string(Integer.toUnsignedLong(in.getInt()))); // BINUNICODE
                case 0x8c -> stack.push(string(in.get() & 0xff)); // SHORT_BINUNICODE
                case 0x8d -> stack.push(string(in.getLong())); // BINUNICODE8
                case 'T' -> stack.push(string(in.getInt())); // BINSTRING (protocol 1): a signed length
                case 'U' -> stack.push(string(in.get() & 0xff)); // SHORT_BINSTRING
                case 't' -> stack.push(List.copyOf(popToMark())); // TUPLE
                case 0x85 -> stack.push(List.of(stack.pop())); // TUPLE1
                case 0x86 -> { // TUPLE2
                    Object b = stack.pop(), a = stack.pop();
                    stack.push(List.of(a, b));
                }
                case 0x87 -> { // TUPLE3
                    Object c = stack.pop(), b = stack.pop(), a = stack.pop();
                    stack.push(List.of(a, b, c));
                }
                case 'l' -> stack.push(new ArrayList<>(popToMark())); // LIST
                case 'a' -> { // APPEND
                    Object v = stack.pop();
                    list(stack.peek()).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popToMark();
                    list(stack.peek()).addAll(items);
                }
                case 'd' -> { // DICT
                    List<Object> items = popToMark();
                    Map<Object, Object> map = new LinkedHashMap<>();
                    for (int i = 0; i + 1 < items.size(); i += 2) map.put(key(items.get(i)), items.get(i + 1));
                    stack.push(map);
                }
                case 's' -> { // SETITEM
                    Object v = stack.pop(), k = stack.pop();
                    map(stack.peek()).put(key(k), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popToMark();
                    Map<Object, Object> map = map(stack.peek());
                    for (int i = 0; i + 1 < items.size(); i += 2) map.put(key(items.get(i)), items.get(i + 1));
                }
                case 'q' -> memo.put(in.get() & 0xff, stack.peek()); // BINPUT
                case 'r' -> memo.put(in.getInt(), stack.peek()); // LONG_BINPUT
                case 0x94 -> memo.put(memo.size(), stack.peek()); // MEMOIZE
                case 'h' -> stack.push(memoized(in.get() & 0xff)); // BINGET
                case 'j' -> stack.push(memoized(in.getInt())); // LONG_BINGET
                case 'c' -> stack.push(global(line(), line())); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    String name = (String) stack.pop(), module = (String) stack.pop();
                    stack.push(global(module, name));
                }
                case 'Q' -> stack.push(persistentId(stack.pop())); // BINPERSID
                case 'R' -> { // REDUCE
                    List<?> args = (List<?>) stack.pop();
                    stack.push(call(stack.pop(), args));
                }
                case 0x81 -> { // NEWOBJ
                    List<?> args = (List<?>) stack.pop();
                    stack.push(call(stack.pop(), args));
                }
                case '0' -> stack.pop(); // POP
                case 'b' -> stack.pop(); // BUILD: the state set on the object on the stack (a state dict's _metadata) is not needed
                default -> throw new JlensException(source + ": uses pickle opcode 0x" + Integer.toHexString(op)
                        + ", which a tensor state dict does not need; jlens does not read it.");
            }
        }
    }

    private Object memoized(int key) {
        Object v = memo.get(key);
        if (v == null) throw new JlensException(source + ": is not a readable pickle (it recalls memo entry " + key + ", which it never stored).");
        return v;
    }

    /**
     * A state dict's keys are names; a key that is a list or a dict (which a pickle may even make
     * contain itself) is refused rather than hashed.
     */
    private Object key(Object k) {
        if (k instanceof String || k instanceof Long || k instanceof Double || k instanceof Boolean || k instanceof None) return k;
        throw new JlensException(source + ": is not a readable pickle (a dictionary key is a " + (k instanceof List<?> ? "list" : "container")
                + ", not a name).");
    }

    private Global global(String module, String name) {
        boolean allowed = (module.equals("collections") && name.equals("OrderedDict"))
                || (module.equals("torch._utils") && (name.equals("_rebuild_tensor_v2") || name.equals("_rebuild_tensor")
                || name.equals("_rebuild_parameter")))
                || (module.equals("torch") && STORAGES.contains(name));
        if (!allowed) {
            throw new JlensException(source + ": refers to " + JlensException.quote(module + "." + name)
                    + ", which a tensor state dict does not need; jlens refuses it, as loading a checkpoint must never run code.");
        }
        return new Global(module, name);
    }

    private Object call(Object callable, List<?> args) {
        if (!(callable instanceof Global g)) throw new JlensException(source + ": calls something that is not a known global.");
        return switch (g.name()) {
            case "OrderedDict" -> new LinkedHashMap<>();
            case "_rebuild_tensor", "_rebuild_tensor_v2" -> new TensorRef((StorageRef) args.get(0), (Long) args.get(1),
                    longs(args.get(2)), longs(args.get(3)));
            case "_rebuild_parameter" -> args.get(0); // (tensor, requires_grad, hooks): the tensor is what matters
            default -> throw new JlensException(source + ": calls " + g.module() + "." + g.name() + ", which is a type, not a function.");
        };
    }

    /** ('storage', storage type, key, location, number of elements). */
    private StorageRef persistentId(Object pid) {
        List<?> t = (List<?>) pid;
        if (t.size() < 5 || !"storage".equals(t.get(0)) || !(t.get(1) instanceof Global type)) {
            throw new JlensException(source + ": has a persistent id that is not a tensor storage.");
        }
        return new StorageRef(type.name(), String.valueOf(t.get(2)), ((Number) t.get(4)).longValue());
    }

    private List<Object> popToMark() {
        List<Object> items = new ArrayList<>();
        while (stack.peek() != MARK) items.addFirst(stack.pop());
        stack.pop();
        return items;
    }

    private String line() {
        StringBuilder sb = new StringBuilder();
        for (byte b = in.get(); b != '\n'; b = in.get()) sb.append((char) b);
        return sb.toString();
    }

    private String string(long length) {
        if (length < 0 || length > in.remaining()) {
            throw new JlensException(source + ": is not a readable pickle (a string of " + length + " bytes where " + in.remaining() + " are left).");
        }
        byte[] bytes = new byte[(int) length];
        in.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private long long1(int length) {
        if (length > 8) throw new JlensException(source + ": holds an integer of " + length + " bytes; a tensor's sizes fit in 8.");
        long v = 0;
        for (int i = 0; i < length; i++) v |= (long) (in.get() & 0xff) << (8 * i);
        if (length > 0 && length < 8 && (v >> (8 * length - 1) & 1) == 1) v -= 1L << (8 * length); // sign
        return v;
    }

    private static long[] longs(Object tuple) {
        List<?> list = (List<?>) tuple;
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) list.get(i)).longValue();
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> map(Object o) {
        return (Map<Object, Object>) o;
    }

    /** Python's None. */
    enum None { NONE }
}
