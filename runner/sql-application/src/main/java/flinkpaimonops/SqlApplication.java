package flinkpaimonops;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;

/**
 * Runs a SQL version of a job as a Flink application: the same script files that the session
 * target sends to the SQL gateway (the catalog script, then the version's script), one statement
 * at a time in one TableEnvironment. Flink 1.20 has no SQL application runner of its own (the SQL
 * gateway's script deployment arrived in 2.0), so application mode starts this class as the job's
 * main class: `standalone-job.sh --job-classname flinkpaimonops.SqlApplication -- --script F ...`.
 *
 * <p>`${NAME}` in a script is replaced by the environment variable NAME, as the session target
 * does for the catalog script; an unset variable is an error rather than an empty string.
 */
public final class SqlApplication {
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

  public static void main(String[] args) throws Exception {
    List<Path> scripts = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if ("--script".equals(args[i]) && i + 1 < args.length) {
        scripts.add(Path.of(args[++i]));
      } else {
        throw new IllegalArgumentException("usage: SqlApplication --script FILE [--script FILE ...]; got '" + args[i] + "'");
      }
    }
    if (scripts.isEmpty()) throw new IllegalArgumentException("usage: SqlApplication --script FILE [--script FILE ...]");
    TableEnvironment tableEnv = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
    for (Path script : scripts) {
      String text = substitute(Files.readString(script, StandardCharsets.UTF_8), System.getenv(), script);
      for (String statement : statements(text)) {
        Matcher set = SET.matcher(statement);
        if (set.matches()) {
          // SET is the SQL client's and gateway's statement, not TableEnvironment's: apply it to the config.
          tableEnv.getConfig().set(unquote(set.group(1)), unquote(set.group(2)));
        } else {
          tableEnv.executeSql(statement);
        }
      }
    }
  }

  private static final Pattern SET = Pattern.compile("(?is)^SET\\s+('(?:[^']|'')*')\\s*=\\s*('(?:[^']|'')*')$");

  private static String unquote(String quoted) {
    return quoted.substring(1, quoted.length() - 1).replace("''", "'");
  }

  static String substitute(String text, Map<String, String> env, Path script) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = env.get(m.group(1));
      if (value == null) throw new IllegalArgumentException(script + " uses ${" + m.group(1) + "}, which is not set in the environment");
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * Splits a script at the semicolons that end statements: not inside quotes, backticks or
   * comments, and not inside an `EXECUTE STATEMENT SET BEGIN ... END` block (whose inner INSERTs
   * end in semicolons too). Comments are dropped.
   */
  static List<String> statements(String text) {
    List<String> result = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    int n = text.length();
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if (c == '-' && i + 1 < n && text.charAt(i + 1) == '-') {
        while (i < n && text.charAt(i) != '\n') i++;
        current.append('\n');
        continue;
      }
      if (c == '/' && i + 1 < n && text.charAt(i + 1) == '*') {
        int end = text.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 1;
        current.append(' ');
        continue;
      }
      if (c == '\'' || c == '`' || c == '"') {
        int j = i + 1;
        while (j < n) {
          if (text.charAt(j) == c) {
            if (j + 1 < n && text.charAt(j + 1) == c) { j += 2; continue; } // doubled quote
            break;
          }
          j++;
        }
        current.append(text, i, Math.min(j + 1, n));
        i = j;
        continue;
      }
      if (c == ';') {
        String soFar = current.toString().trim();
        if (inStatementSet(soFar)) {
          current.append(c);
          continue;
        }
        if (!soFar.isEmpty()) result.add(soFar);
        current.setLength(0);
        continue;
      }
      current.append(c);
    }
    String rest = current.toString().trim();
    if (!rest.isEmpty()) result.add(rest);
    return result;
  }

  private static final Pattern STATEMENT_SET = Pattern.compile("^(EXECUTE\\s+)?STATEMENT\\s+SET\\s+BEGIN\\b", Pattern.CASE_INSENSITIVE);
  private static final Pattern ENDS_WITH_END = Pattern.compile("\\bEND$", Pattern.CASE_INSENSITIVE);

  /** True while `soFar` opened a statement set whose END has not come yet. */
  private static boolean inStatementSet(String soFar) {
    return STATEMENT_SET.matcher(soFar).find() && !ENDS_WITH_END.matcher(soFar).find();
  }

  private SqlApplication() {}
}
