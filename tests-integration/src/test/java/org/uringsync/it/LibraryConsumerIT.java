package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.CopyResult;
import org.uringsync.LocalCopy;
import org.uringsync.nativeio.NativeLoader;

/** The jar used the way another JVM project uses it: a Maven dependency and nothing else. */
class LibraryConsumerIT {
    @TempDir
    Path tmp;

    @Test
    void theDependencyCopiesWithNoNativeSetup() throws Exception {
        assertNull(System.getProperty(NativeLoader.PATH_PROPERTY), "no pre-installed library is named");
        Path src = Files.createDirectories(tmp.resolve("src/sub"));
        Files.writeString(src.resolve("hello.txt"), "hello");
        CopyResult r = LocalCopy.builder().preserve(true).build().copy(tmp.resolve("src"), tmp.resolve("dst"));
        assertTrue(r.succeeded(), r.failures().toString());
        assertEquals("hello", Files.readString(tmp.resolve("dst/sub/hello.txt")));
        assertTrue(NativeLoader.isLoaded());
    }

    /**
     * A separate program compiled against the jar that {@code mvn install} put into the local repository
     * (or, when only {@code mvn verify} ran, the jar the build just packaged), run in a fresh JVM whose
     * class path holds that jar alone: no picocli, no library path, no system property.
     */
    @Test
    void aSeparateProgramWithOnlyTheJarOnItsClassPathCopies() throws Exception {
        Path jar = Launcher.libraryJar();
        System.out.println("consumer uses " + jar);
        Path app = Files.createDirectory(tmp.resolve("app"));
        Files.writeString(app.resolve("Consumer.java"), String.join("\n",
                "import java.nio.file.Path;",
                "public class Consumer {",
                "  public static void main(String[] a) throws Exception {",
                "    var r = org.uringsync.LocalCopy.builder().build().copy(Path.of(a[0]), Path.of(a[1]));",
                "    System.out.println(r.files() + \" \" + r.succeeded());",
                "  }",
                "}"));
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-cp", jar.toString(), "-d", app.toString(),
                app.resolve("Consumer.java").toString());
        assertEquals(0, rc);
        Path src = Files.createDirectory(tmp.resolve("in"));
        for (int i = 0; i < 50; i++) {
            Files.writeString(src.resolve("f" + i), "x".repeat(i));
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Launcher.Result r = Launcher.exec(List.of(java, "-cp", jar + ":" + app, "Consumer", src.toString(),
                tmp.resolve("out").toString()));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("50 true", r.out().strip());
        Launcher.sh(tmp, "diff -r in out");
    }
}
