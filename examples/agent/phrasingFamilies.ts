/**
 * Phrasing families for the offline tool model's training requests: small grammars that
 * combine the parts people build a request from (a verb, where to look, a connective, a
 * trailing remark) into thousands of sentence frames, so the model learns what a frame
 * looks like in general rather than memorising a few dozen. They are training-only: the
 * held-out set keeps its own frames (toolData.ts), and `toolData.ts` drops every family
 * frame that comes near one of them (see `phrasingGuard`).
 *
 * Syntax: `(a|b|)` is a choice (an empty choice drops the part); slots are `{q}` a search
 * query, `{a}`/`{b}` two queries, `{op}` the operation after a search, `{p}` a path, `{d}` a
 * document id, `{s}` a section, `{task}` an unsupported task, `{m}`/`{n}`/`{k}`/`{ks}` an
 * image generator, a count, a digit (plural).
 */

/** Every string the pattern stands for. */
export function expand(pattern: string): string[] {
  const open = pattern.indexOf("(");
  if (open < 0)
    return [
      pattern
        .replace(/\s+/g, " ")
        .replace(/\s+([,?.:;])/g, "$1")
        .trim(),
    ];
  let depth = 0;
  let close = open;
  for (; close < pattern.length; close++) {
    if (pattern[close] === "(") depth++;
    else if (pattern[close] === ")" && --depth === 0) break;
  }
  const inner = pattern.slice(open + 1, close);
  const options: string[] = [];
  let start = 0;
  depth = 0;
  for (let i = 0; i <= inner.length; i++) {
    const c = inner[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if ((c === "|" && depth === 0) || i === inner.length) {
      options.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  const before = pattern.slice(0, open);
  const after = pattern.slice(close + 1);
  return options.flatMap((o) => expand(`${before}${o}${after}`));
}

const SRC = "(documents|docs|notes|files|papers|sources|records|materials|texts|handbook|wiki|manual|library|archive)";
const ABOUT = "(about|on|regarding|concerning|related to|relating to|covering|with respect to)";

export const SEARCH_FAMILIES = [
  `(tell|teach|brief|show|inform|remind) me ${ABOUT} {q}`,
  `(give|get|fetch|bring) me (passages|details|information|background|an overview|a summary|facts|material) ${ABOUT} {q}`,
  `(find|get|pull|dig out|retrieve|collect|gather) (passages|material|text|details|information|everything) ${ABOUT} {q}`,
  `what (do|did) (the|our|my) ${SRC} (say|tell us|mention|contain|explain|report|note) ${ABOUT} {q}`,
  `what (have we got|do we have|do we know|can you find|can we find|is there|is available) ${ABOUT} {q}`,
  `(search|look|hunt|dig|check|scan|browse) (the|our|my) ${SRC} for {q}`,
  `(search for|look for|hunt for|dig for|look up|find|locate|seek|query|check) {q} (in|across|within|throughout|inside) (the|our|my) ${SRC}`,
  `(in|across|within) (the|our|my) ${SRC}, (search for|look for|find|look up|locate) {q}`,
  `(search for|look for|hunt for|look up|query|seek|retrieve) {q}`,
  `(what is meant by|what's meant by|how do we define|how is one to understand|what's the story with|what's the deal with|what about) {q}`,
  `(how is|why is|when is|where is|how was|why was) {q} (used|handled|defined|explained|covered|introduced|important|useful|done|applied)`,
  `(how do we|how should we|why do they|when should we|where do we) (handle|use|apply|choose|manage|treat) {q}`,
  `(is|was|are) {q} (covered|mentioned|explained|discussed|described) (anywhere|in the ${SRC}|at all|)`,
  `(I'd like to|I want to|I need to|I'd love to|help me) (learn|read|hear|know more) ${ABOUT} {q}`,
  `(I'm interested in|I'm researching|I'm studying|I have a question about|I keep wondering about|I'm confused by) {q}`,
  `(do we have|is there|are there|have you got) (anything|any passages|any notes|material|something|info) ${ABOUT} {q}`,
  `(info|details|background|an overview|facts|a summary|an explanation|the basics) ${ABOUT} {q}`,
  `{q}(:|,|?) (what do we know|what do the ${SRC} say|anything on that|tell me more|explain|any details)`,
  `(define|summarise|summarize|outline|clarify|elaborate on|go over|walk me through|break down) {q}`,
  `{q} (explained|in a nutshell|in short|in the ${SRC}|basics|overview)`,
  // A verb of saying in the progressive, a verb after the topic, "show me what you've got":
  // frame words around a topic, not part of it.
  `what (are|were) (the|our) ${SRC} (telling us|reporting|stating|mentioning) (about|on|regarding) {q}`,
  `(how|why|when|where) {q} (works|worked|operates|functions|fails|matters|helps|scales|breaks)`,
  `(explain|describe|show me|tell me|find out|look up) (how|why|where|when) {q} (works|operates|functions|is built|is used|behaves|fails|matters)`,
  `(will|would|can|could|did) {q} (work|scale|help|matter|apply|fail) (here|for us|in practice|at all|)`,
  `(what|how) (exactly|really|actually) (does|do|did) {q} (do|achieve|involve|mean|change)`,
  `(show|give) me (whatever|everything) (you've got|you can find|there is|we hold) ${ABOUT} {q}`,
  `(whatever|everything|anything) (you've got|you can find|there is|we hold) ${ABOUT} {q}(, please|, show me|)`,
];

/** Two topics searched in one request. */
export const COMPARE_FAMILIES = [
  "(compare|contrast|weigh|search|look up|find|explain|describe) {a} (and|with|against|or|to|alongside) {b}",
  "(what separates|what distinguishes|how do you tell apart|the difference between|differences between|similarities between) {a} (and|from) {b}",
  "{a} (compared to|compared with|as opposed to|in contrast to|against|or) {b}",
  "(which is better|which is worse|which should I use|which one wins), {a} or {b}",
  "(search|look up|find|check) {a}, (and also|and then|then|plus|and) {b}",
  "(tell me about|explain|describe|look up) {a} (as well as|together with|along with|plus|and then) {b}",
  "(how does|why does|where does) {a} (differ from|compare with|compare to|relate to|beat) {b}",
  // A bare connective between two topics.
  "{a} (vs|vs.|over|instead of|rather than|next to|and not|beside) {b}(: which is better|, which is better|: what's the difference|, how do they differ|?|)",
  "(search|look up|find|explain|compare) {a} (vs|vs.|over|rather than|instead of) {b}",
];

export const SEARCH_CALC_FAMILIES = [
  `(find|get|fetch|grab|take|read|extract|retrieve|check|pull up|look up) {q} (in the ${SRC}|from the ${SRC}|in my notes|from our ${SRC}|) (and|, then|then|; |, and then|and then|. Then|, after that) {op}`,
  `(what is|what's|how big is|how large is|what value is) {q} (in the ${SRC}|according to the ${SRC}|in our ${SRC}|)? {op}`,
  `(search|look|hunt) (for|up) {q} (and|, then|then|; ) {op}`,
  `{q} (from the ${SRC}|in the ${SRC}|per the ${SRC}): {op}`,
  `(take|use|grab) {q} (from the ${SRC}|in the ${SRC}|) (and|then|, then) {op}`,
  `(after you find|when you have|once you've got|having found) {q}, {op}`,
];

const DOC = "(document|indexed document|doc|indexed file|article|entry|record)";
const IN_KB =
  "(in the knowledge base|in the index|in the corpus|in the document store|among the indexed documents|from the index|from the corpus|from the indexed documents)";

export const READ_DOC_FAMILIES = [
  `(show|open|display|print|fetch|retrieve|return|get|pull up|bring up|give me) the ${DOC} {d}`,
  `(show|open|display|print|fetch|retrieve|return|get|pull up|bring up|give me) {d} ${IN_KB}`,
  `${IN_KB}, (show|open|read|display|fetch|get) {d}`,
  `(the|that) ${DOC} {d}, (in full|whole|all of it|start to finish|please)`,
  `(show|open|read|display|fetch|get|give me) the {s} (section|part|chapter|heading) (of|in|from) the ${DOC} {d}`,
  `(show|open|read|display|fetch|get|give me) the {s} (section|part|chapter|heading) of {d} ${IN_KB}`,
  `(in|from) the ${DOC} {d}, (show|open|read|display|give me) (the {s} section|the {s} part|section {s}|the part called {s})`,
  `(section|chapter|part) {s} (of|in|from) the ${DOC} {d}`,
  `(what does|what did) the ${DOC} {d} (say|contain|hold|have)`,
];

const FILE_VERBS =
  "(show|open|read|print|display|cat|view|output|dump|echo|preview|inspect|examine|look at|get|give me|paste|go through|peek at|take a look at|have a look at|bring up|pull up|read aloud|check)";

export const READ_FILE_FAMILIES = [
  `${FILE_VERBS} {p}`,
  `${FILE_VERBS} the (file|text file|contents of|text in|text of|lines of) {p}`,
  `${FILE_VERBS} what's (in|inside) {p}`,
  `(what's|what is) (inside|written inside|stored in) {p}`,
  `{p}: (show it|open it|read it|print it|what's in it|its contents)`,
  `(the contents of|the text of|everything in) {p}(, please|)`,
];

export const LIST_FAMILIES = [
  "(list|show|enumerate|display|browse|scan|inspect|explore|walk|index) (the folder|the directory|the files in|the files under|the contents of|what's in|everything in|) {p}",
  "(what files|which files|what documents|what's|what is) (live in|sit in|are inside|are under|is inside|is under|does) {p}",
  "(the files in|everything inside|the listing of|the contents of|a file list for) {p}(, please|)",
  "(peek into|look into|go into|open up) the (folder|directory) {p}",
  "{p}: (list it|what's in it|show the files|its files)",
];

export const REFUSE_FAMILIES = [
  "{task}",
  "(please|kindly|hey,|ok,|alright,|now) {task}",
  "(I need you to|I'm asking you to|you have to|you must|remember to|don't forget to|be sure to|let's|we need to|it's time to|time to) {task}",
  "(can|could|would|will) you (please|) {task}(| for us| today| tonight| later| on my behalf)",
  "(is it possible to|are you able to|are you allowed to|any chance you could) {task}",
  "{task} (tonight|tomorrow|this evening|when you can|by Friday|before noon|on my behalf|for us|later)",
];

export const IMAGE_FAMILIES = [
  "(draw|sketch|paint|render|generate|create|make|produce|doodle|illustrate) (a|an image of a|a picture of a|one) ({k}|(neat|messy|small|large|bold|thin|random|fresh|simple) {k}) (with the {m}|using {m}|using the {m} model|via the {m}|from the {m}|with {m}|)",
  "(draw|sketch|paint|render|generate|create|make|produce|give me|show me) {n} ({ks}|(neat|messy|small|bold|random|fresh) {ks}|images of {ks}|pictures of the digit {k}|samples of {ks}) (with the {m}|using {m}|using the {m} model|via the {m}|from the {m}|)",
  "(have|let|get) the {m} (draw|sketch|render|generate|produce|make) (a {k}|{n} {ks}|{n} samples|{n} images|the digit {k})",
  "(use|try|run) the {m} (to draw|to sketch|to render|to make|to generate|and draw|and make) (a {k}|{n} {ks}|{n} pictures|the number {k})",
  "(the digit|the number) {k}, (drawn|rendered|generated|sketched) (by|with) the {m}",
  "(with|using) the {m}, (draw|sketch|render|make|generate) (a {k}|{n} {ks}|{n} images)",
];

/** Small talk the model answers itself (what it can do), not with a tool. */
export const REPLY_FAMILIES = [
  "(hi|hello|hey|hiya|morning|evening) (again|friend|everyone|you|)",
  "(thanks|thank you|cheers|ta) (so much|a ton|kindly|again|mate|buddy|)",
  "(great|perfect|cool|awesome|lovely|brilliant|ok|okay|got it|understood|fine|alright)(, thanks|, thank you| then|)",
  "(what's|what is) your (name|purpose|job)",
  "(are you|is this) (a bot|a robot|an assistant|human|real|genera|online)",
  "(what|how) (do you do|should I use you|do I use you|do I start)",
  "(nice|good|great) to (meet|see|hear from) you",
  "(how's it going|how are things|how have you been|what's new|you okay)",
  "(so long|take care|later|catch you later|farewell|see ya|until next time)",
  "(never mind|forget it|no worries|all good|that's all|nothing else)",
  "(can|could) you help(| me| us)",
];

/** Questions about the date or time. */
export const DATE_FAMILIES = [
  "(what|which) (day|date|weekday|month|year|time) (is it|is it now|is it today|are we in|have we got)",
  "(tell|give|show) me (the|today's) (date|time|day|weekday)(| please| now)",
  "(the|today's|current) (date|day|weekday|month|year)(| please|, please| now)",
  "(time|date|day) (now|today|please)",
  "(what's|what is) the (time|date|day|hour)(| right now| at the moment| today)",
  "(is it|is today) (monday|tuesday|wednesday|thursday|friday|saturday|sunday|the weekend)(| today)",
  "(do you know|can you tell me) (the time|the date|what day it is|what time it is)",
];

/** Tasks no tool serves, beyond toolData's ACTIONS: training only (the held-out verbs stay ACTIONS'). */
export const MORE_ACTIONS: Array<[string, string[]]> = [
  ["arrange", ["a babysitter for Friday", "a meeting room", "flowers for the table"]],
  ["organize", ["my closet", "a surprise party", "the garage"]],
  ["ring", ["my aunt", "the bell", "the restaurant"]],
  ["phone", ["the bank", "my grandmother", "the landlord"]],
  ["grab", ["me a coffee", "the mail", "some milk"]],
  ["bring", ["me a glass of water", "the car around", "my jacket"]],
  ["mail", ["this letter", "the package to Rome", "my tax return"]],
  ["tweet", ["about the launch", "my results", "a thank-you note"]],
  ["block", ["this number", "that user", "the spam caller"]],
  ["plant", ["tomatoes", "a tree in the yard", "tulip bulbs"]],
  ["grill", ["some burgers", "the salmon", "vegetables"]],
  ["fry", ["an egg", "the potatoes", "some bacon"]],
  ["boil", ["water", "the pasta", "two eggs"]],
  ["brew", ["some tea", "a pot of coffee", "beer"]],
  ["pour", ["me a drink", "the wine", "some juice"]],
  ["pack", ["my suitcase", "the lunch boxes", "the moving boxes"]],
  ["unpack", ["the groceries", "my bags", "the boxes"]],
  ["tidy", ["my desk", "the living room", "the kids' toys"]],
  ["sweep", ["the floor", "the porch", "the patio"]],
  ["mop", ["the kitchen floor", "the hallway", "the bathroom"]],
  ["dust", ["the shelves", "the bookcase", "the furniture"]],
  ["fold", ["the laundry", "the towels", "my shirts"]],
  ["sew", ["a button on", "the torn sleeve", "a costume"]],
  ["reboot", ["the router", "my laptop", "the printer"]],
  ["upgrade", ["my phone plan", "the firmware", "to first class"]],
  ["uninstall", ["this app", "the antivirus", "the old drivers"]],
  ["encrypt", ["my hard drive", "this folder", "the backup disk"]],
  ["pair", ["my headphones", "the speaker", "the new keyboard"]],
  ["connect", ["to the wifi", "the printer", "my phone to the TV"]],
  ["unplug", ["the toaster", "the charger", "the printer"]],
  ["switch off", ["the alarm", "the air conditioning", "the oven"]],
  ["power down", ["the servers", "my computer", "the lab"]],
  ["launch", ["the rocket", "the new campaign", "the app"]],
  ["fly", ["me to Tokyo", "the drone", "a kite"]],
  ["ride", ["a horse", "the bus downtown", "my bike to work"]],
  ["jog", ["around the block", "with me", "five kilometres"]],
  ["swim", ["two laps", "across the lake", "with the kids"]],
  ["climb", ["the mountain", "that tree", "the stairs for me"]],
  ["visit", ["my grandparents", "the museum", "the doctor"]],
  ["meet", ["Anna for lunch", "the new client", "me at the station"]],
  ["congratulate", ["Maria on her promotion", "the winners", "my cousin"]],
  ["fire", ["the contractor", "the new intern", "the cleaner"]],
  ["promote", ["Jane to manager", "our new product", "the event"]],
  ["interview", ["the candidate", "the new applicant", "the mayor"]],
  ["negotiate", ["my salary", "a better price", "the lease terms"]],
  ["invest", ["in gold", "my bonus", "in index funds"]],
  ["donate", ["to the shelter", "my old clothes", "fifty dollars"]],
  ["lend", ["Tom my car", "her some money", "my ladder to the neighbours"]],
  ["borrow", ["a drill", "some sugar", "money from the bank"]],
  ["tip", ["the waiter", "the driver", "the delivery guy"]],
  ["refuel", ["the car", "the truck", "the generator"]],
  ["heat", ["up the soup", "the pool", "the leftovers"]],
  ["freeze", ["the leftovers", "my account", "the bread"]],
  ["defrost", ["the chicken", "the freezer", "the windscreen"]],
  ["toast", ["the bread", "some bagels", "the bride and groom"]],
  ["chop", ["the onions", "some firewood", "the carrots"]],
  ["peel", ["the potatoes", "an orange", "the apples"]],
  ["shave", ["my beard", "the dog", "my head"]],
  ["trim", ["the hedge", "my hair", "the bushes"]],
  ["brush", ["the dog", "my teeth", "the horse"]],
  ["hug", ["me", "my brother", "the kids"]],
  ["adopt", ["a puppy", "a kitten", "a rescue dog"]],
  ["rescue", ["the cat from the tree", "me", "the stranded hikers"]],
  ["catch", ["the next bus", "a fish", "the ball"]],
  ["throw", ["a party", "the ball", "away the trash"]],
  ["kick", ["the ball", "off the meeting", "him out of the group"]],
  ["knit", ["a scarf", "me a sweater", "some socks"]],
  ["carry", ["my bags", "the boxes upstairs", "the groceries"]],
  ["hang", ["the picture", "up the laundry", "the curtains"]],
  ["move", ["the couch", "my meeting to Monday", "the car"]],
  ["lift", ["this box", "the weights", "the table"]],
  ["weigh", ["my luggage", "the parcel", "the flour"]],
  ["measure", ["the window", "my blood pressure", "the room"]],
  ["scan", ["my passport", "this receipt", "the QR code"]],
  ["photograph", ["the sunset", "the receipt", "our team"]],
  ["film", ["the wedding", "my presentation", "the match"]],
  ["edit", ["my vacation video", "the wedding photos", "this podcast episode"]],
  ["compose", ["a symphony", "a jingle", "a birthday song"]],
  ["rap", ["a verse", "about pizza", "for me"]],
  ["whistle", ["a tune", "for the dog", "the anthem"]],
  ["bark", ["like a dog", "at the mailman", "twice"]],
  ["spray", ["the roses", "the weeds", "some perfume"]],
  ["recharge", ["my travel card", "the batteries", "the scooter"]],
  ["top up", ["my phone credit", "the tank", "my metro card"]],
  ["unsubscribe", ["me from this list", "from the newsletter", "me from promotions"]],
  ["accept", ["the meeting invite", "his friend request", "the job offer"]],
  ["decline", ["the call", "the invitation", "the offer"]],
  ["approve", ["the expense claim", "my leave request", "the budget"]],
  ["submit", ["my tax return", "the application", "the timesheet"]],
  ["apply", ["for the job", "for a visa", "for a loan"]],
  ["enroll", ["me in the course", "the kids in swimming", "in the programme"]],
  ["register", ["my car", "for the marathon", "the new domain"]],
  ["check in", ["for my flight", "at the hotel", "on grandma"]],
  // Errands whose object is a named thing, as a search topic is: the verb decides.
  ["repaint", ["the hallway", "the shed", "the kitchen cabinets"]],
  ["replace", ["the light bulb", "my phone screen", "the car battery"]],
  ["return", ["these shoes", "the rental car", "my library loan"]],
  ["exchange", ["this sweater", "dollars for euros", "the faulty charger"]],
  ["collect", ["my prescription", "the kids from school", "the parcel at the depot"]],
  ["drop off", ["the keys", "my laundry", "the kids at practice"]],
  ["fetch", ["my coat", "the newspaper", "a ladder"]],
  ["hand in", ["my notice", "the assignment", "the keys"]],
  ["turn down", ["the volume", "the heat", "the music"]],
  ["turn up", ["the volume", "the radio", "the heating"]],
  ["speed up", ["my internet", "the fan", "the treadmill"]],
  ["cool", ["the room", "the drinks", "the engine"]],
  ["warm", ["the car", "up the milk", "the bedroom"]],
  ["wrap", ["the present", "the sandwiches", "the gift for Lucy"]],
  ["decorate", ["the tree", "the cake", "the living room"]],
  ["babysit", ["the twins", "my nephew", "the kids tonight"]],
  ["shovel", ["the driveway", "the snow", "the path"]],
  ["rake", ["the leaves", "the lawn", "the garden beds"]],
  ["prune", ["the roses", "the apple tree", "the hedge"]],
  ["harvest", ["the tomatoes", "the apples", "the wheat"]],
  ["milk", ["the cows", "the goat", "the cow"]],
  ["polish", ["my shoes", "the silver", "the car"]],
  ["sharpen", ["the knives", "my pencil", "the blade"]],
  ["assemble", ["the bookcase", "the crib", "the new desk"]],
  ["haul", ["the trash", "the firewood", "the boxes"]],
  ["escort", ["the guests out", "me home", "the visitor upstairs"]],
  ["applaud", ["the speaker", "the band", "the team"]],
];
