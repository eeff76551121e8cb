package io.jdispatch;

/**
 * The quality-of-service classes of the global concurrent queues ({@code qos_class_t}), as accepted by
 * {@code dispatch_get_global_queue} (all five checked on swift-corelibs-libdispatch 6.0.3 on Linux by
 * tests/native/test_queue_rules.c; Linux has no kernel QoS, so there they only rank libdispatch's own
 * root queues).
 */
public enum QoSClass {
    /** QOS_CLASS_USER_INTERACTIVE (0x21). */
    USER_INTERACTIVE(0x21),
    /** QOS_CLASS_USER_INITIATED (0x19). */
    USER_INITIATED(0x19),
    /** QOS_CLASS_DEFAULT (0x15): what {@link DispatchQueue#global()} uses. */
    DEFAULT(0x15),
    /** QOS_CLASS_UTILITY (0x11). */
    UTILITY(0x11),
    /** QOS_CLASS_BACKGROUND (0x09). */
    BACKGROUND(0x09);

    /**
     * QOS_MIN_RELATIVE_PRIORITY (-15): the lowest relative priority {@link DispatchQueue.Attributes#withQoSClass}
     * accepts (the highest is 0).
     */
    public static final int MIN_RELATIVE_PRIORITY = -15;

    /** The qos_class_t value. */
    public final int value;

    QoSClass(int value) {
        this.value = value;
    }
}
