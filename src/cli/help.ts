import { type Command, Help } from "commander";

/**
 * Adds a section of items (a term and its description) after a command's options, laid out as
 * commander lays out its own: terms padded to one column, descriptions wrapped to the terminal's
 * width with a hanging indent. (A list written into the description is wrapped as prose instead,
 * its continuation lines back at the margin.)
 */
export function addHelpSection(cmd: Command, heading: string, items: [string, string][]): Command {
  return cmd.configureHelp({
    ...cmd.configureHelp(),
    formatHelp(c, helper) {
      const base = Help.prototype.formatHelp.call(helper, c, helper);
      const width = Math.max(helper.padWidth(c, helper), ...items.map(([term]) => term.length));
      const lines = items.map(([term, text]) => helper.formatItem(term, width, text, helper));
      return `${base}\n${helper.styleTitle(heading)}\n${lines.join("\n")}\n`;
    },
  });
}
