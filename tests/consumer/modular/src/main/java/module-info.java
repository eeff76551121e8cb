/** A service's module: it requires io.jdispatch (which requires org.bytedeco.javacpp) and nothing else. */
module com.example.consumer {
    requires io.jdispatch;
}
