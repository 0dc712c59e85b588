/**
 * Common English words that the built-in tiny model's tokenizer holds as tokens (with their
 * prefixes). With bytes alone, every character of a prompt is a token, and the agentic-misalignment
 * prompts of a `--demo` run are 8–16k tokens each: attention over them is most of the run's time.
 * With these words, prose runs at about three characters a token, as with a real tokenizer.
 */
export const TINY_WORDS = `
a about above access account act action actions after again against agent ai all allow also always
am an analysis and another answer any anyone anything are around as ask assistant at available
away back based be because been before being below best better between board both business but by
call can cannot case change clear close com come company complete concern consider contact context
continue control could current customer customers data day decision deploy deployed deployment did
different direct do does doing done down during each early effort else email emails end even every
everyone example explain fact final first follow following for forward found from full further get
give given go goal going good group had has have he help her here him his how however human i if
important in include including inform information instead into is issue it its just keep know last
later leave legitimate let like line list long made make management many matter may me meeting
message might mind model more morning most move much must my need needs never new next no not note
now of off office on once one only open or order other others our out over own part people person
place plan platform please point policy possible principal principals principle principles private
program project question rather read real reason reasoning receive record recipient reply report
request required respond response result review right rule rules safe safety said same say says
security see send sent service set shall she should since situation so some someone something soon
spec state still subject such support sure system systems take team tell than thank that the their
them then there these they thing things think this those though through time timestamp to today
told tool too under understand until up update us use used user using value values very want was
way we week well were what when where whether which while who whom why will with within without
work would write writing year yes yet you your
`
  .split(/\s+/)
  .filter(Boolean);

/** Word endings, merged wherever they occur. */
export const TINY_ENDINGS =
  "ing tion ation ed er ers ly ment es ent ence ance al ical ity ous ive ate ful less".split(" ");
