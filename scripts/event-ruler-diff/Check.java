// Reads "PATTERN<TAB>EVENT" lines on stdin and prints, for each, what event-ruler's Machine
// answers: true, false, or ERROR and its message. Used by ../event-ruler-diff.sh.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import software.amazon.event.ruler.Machine;

public class Check {
  public static void main(String[] args) throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] parts = line.split("\t", 2);
      try {
        Machine machine = new Machine();
        machine.addRule("r", parts[0]);
        System.out.println(!machine.rulesForJSONEvent(parts[1]).isEmpty());
      } catch (Exception e) {
        System.out.println("ERROR " + String.valueOf(e.getMessage()).replace('\n', ' '));
      }
    }
  }
}
