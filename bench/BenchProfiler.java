import com.sun.tools.attach.VirtualMachine;

/**
 * Profiling step of {@code bench/run --profile}, compiled once per run:
 *
 * <pre>java -cp CLASSES BenchProfiler PID LIBRARY COMMAND</pre>
 *
 * Loads async-profiler ({@code LIBRARY}, libasyncProfiler.so from Maven Central) into the running
 * broker {@code PID} through the JDK's attach API and gives it {@code COMMAND}, for instance
 * {@code start,event=cpu,interval=1ms,threads} before a workload and
 * {@code stop,file=OUT.html} after it. Loading the library again only passes the next command to the
 * profiler already loaded. Exits non-zero if the attach or the command fails.
 */
public final class BenchProfiler {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: BenchProfiler PID LIBRARY COMMAND");
            System.exit(2);
        }
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        try {
            vm.loadAgentPath(args[1], args[2]);
        } finally {
            vm.detach();
        }
    }
}
