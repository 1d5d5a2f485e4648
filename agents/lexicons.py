"""Word lists of the offline backend: sentiment weights, category keywords, entity cues.

Written for this project.  Keywords ending in ``*`` are stems (``invest*`` matches
``investor``, ``investment``); multi-word keywords match as phrases.
"""

from __future__ import annotations


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _keywords(text: str, *phrases: str) -> tuple[str, ...]:
    return (*text.split(), *phrases)


def _weights(text: str) -> dict[str, float]:
    """``"good:2 great:3 fine"`` -> ``{"good": 2.0, "great": 3.0, "fine": 1.0}``."""
    table = {}
    for item in text.split():
        word, _, weight = item.partition(":")
        table[word] = float(weight or 1)
    return table


POSITIVE = _weights("""
    good:2 great:3 excellent:3 outstanding:3 superb:3 amazing:3 wonderful:3 fantastic:3 brilliant:3 perfect:3
    love:3 loved:3 loves:3 like:1 liked:1 enjoy:2 enjoyed:2 happy:2 pleased:2 delighted:3 glad:2 satisfied:2
    impressive:2 impressed:2 recommend:2 recommended:2 helpful:2 friendly:2 polite:1 kind:1 welcoming:2
    fast:1 quick:1 quickly:1 easy:1 smooth:1 reliable:2 clean:1 comfortable:1 convenient:1 fresh:1 tasty:2
    delicious:3 beautiful:2 nice:2 pleasant:2 positive:2 best:3 better:1 improved:2 improve:1 improvement:2
    success:2 successful:2 strong:2 stronger:2 robust:2 growth:2 grew:2 grow:1 growing:1 gain:2 gains:2
    profit:2 profits:2 profitable:2 exceeded:2 exceed:2 beat:2 record:1 surge:2 surged:2 soared:3 rally:2
    boost:2 boosted:2 upgrade:1 upgraded:1 benefit:1 benefits:1 advantage:1 win:2 won:2 winning:2 thrilled:3
    excited:2 exciting:2 innovative:2 efficient:2 effective:2 stable:1 secure:1 safe:1 resolved:1 solved:1
    thank:1 thanks:1 grateful:2 appreciate:2 appreciated:2 optimistic:2 confident:2 promising:2 healthy:1
    affordable:1 generous:2 attentive:2 professional:1 accurate:1 valuable:2 worth:1 superior:2 favorite:2
""")

NEGATIVE = _weights("""
    bad:2 poor:2 terrible:3 awful:3 horrible:3 worst:3 worse:2 hate:3 hated:3 dislike:2 disappointed:3
    disappointing:3 disappointment:3 unhappy:2 angry:3 annoyed:2 frustrated:2 frustrating:2 upset:2 sad:2
    rude:3 unfriendly:2 slow:2 late:1 delay:2 delayed:2 delays:2 broken:2 broke:1 fail:2 failed:2 failure:2
    failing:2 fails:2 problem:1 problems:2 issue:1 issues:1 bug:1 bugs:2 error:1 errors:1 crash:2 crashed:2
    outage:2 defect:2 defective:3 damaged:2 dirty:2 cold:1 bland:1 overpriced:2 expensive:1 waste:2 useless:3
    complaint:2 complaints:2 complain:2 refund:1 lost:1 loss:2 losses:2 decline:2 declined:2 declining:2 drop:1
    dropped:2 fell:2 fall:1 plunged:3 slump:2 weak:2 weaker:2 miss:1 missed:2 shortfall:2 deficit:1 debt:1
    layoffs:2 layoff:2 lawsuit:2 fraud:3 risk:1 risks:1 concern:1 concerns:1 worried:2 worry:1 uncertain:1
    uncertainty:1 volatile:1 downgrade:2 downgraded:2 warning:1 cut:1 cuts:1 struggle:2 struggling:2 unfortunately:2
    unacceptable:3 mediocre:2 confusing:2 difficult:1 hard:1 painful:2 noisy:1 unreliable:2 insecure:2
    hurt:2 hurts:2 hurting:2 breach:2 leaked:2 vulnerable:1 penalty:2 sued:2 recall:2 shortage:2 bankrupt:3 bankruptcy:3
""")

NEGATORS = _set("not no never none nobody nothing neither nor without hardly barely cannot")
INTENSIFIERS = _set("very really extremely incredibly highly truly so too absolutely remarkably")
DAMPENERS = _set("slightly somewhat fairly rather partly mildly")

CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "finance": _keywords(
        """
        revenue* profit* earning* quarter* fiscal dividend* investor* invest* stock* shareholder* equity
        valuation margin* ebitda cash debt* loan* bank* interest inflation budget* forecast* guidance
        bond* financ* account* audit* tax* expense* capital fund* portfolio* credit* payment* invoice*
        billing sales income eps balance market* trading trader* currenc* usd eur price* cost*
    """,
        "interest rate", "balance sheet", "cash flow", "operating margin", "net income",
    ),
    "technology": _keywords(
        """
        software hardware cloud server* data database* ai algorithm* api* app apps application* platform*
        code coding developer* engineer* comput* network* cyber* security deploy* kubernetes chip* semiconductor*
        digital internet device* smartphone* robot* automat* latency outage* bug* backend frontend
        encryption firmware processor* gpu* saas technolog* tech infrastructure
    """,
        "machine learning", "artificial intelligence", "open source", "user interface",
    ),
    "healthcare": _keywords(
        """
        patient* hospital* clinic* doctor* nurse* medic* drug* pharma* treatment* therap* diagnos* disease*
        vaccin* health* symptom* surg* fda cancer* diabet* prescription* physician* vaccine* dose* illness*
        care* wellness mental
    """,
        "clinical trial", "public health", "health care",
    ),
    "legal": _keywords(
        """
        law laws legal* court* lawsuit* litigat* contract* complian* regulat* attorney* lawyer* judge*
        settlement* patent* trademark* liabil* clause* gdpr privacy sue sued plaintiff* defendant* verdict*
        statute* licens* agreement* breach* jurisdiction* counsel arbitration
    """,
        "terms of service", "intellectual property",
    ),
    "marketing": _keywords(
        """
        marketing campaign* brand* advertis* audience* seo promot* launch* conversion* funnel* influencer*
        newsletter* click* impression* segment* positioning awareness engagement sponsor* slogan* ad ads
        sales lead* prospect*
    """,
        "social media", "market share", "go-to-market", "customer acquisition",
    ),
    "human resources": _keywords(
        """
        employee* hiring hire* recruit* onboard* salar* compensation benefit* layoff* staff* talent* training
        workforce payroll retention culture promotion* diversity union* hr manager* colleague* intern*
        resign* vacation pension*
    """,
        "remote work", "performance review", "parental leave", "job offer",
    ),
    "operations": _keywords(
        """
        supply logistic* warehouse* inventor* shipping shipment* manufactur* production process* efficien*
        vendor* supplier* procurement facilit* capacity throughput schedul* maintenance fleet distribution
        factory factories plant* assembly workflow* bottleneck* sourcing
    """,
        "supply chain", "quality control", "lead time",
    ),
    "customer feedback": _keywords(
        """
        customer* review* experience service support staff waiter* waitress* recommend* star* rating* complain*
        refund* satisf* disappoint* love* hate* order* purchase* bought visit* restaurant* hotel* store shop*
        friendly rude delicious meal* food menu
    """,
        "customer service", "would recommend", "five stars", "one star",
    ),
}

CATEGORY_ALIASES: dict[str, tuple[str, ...]] = {
    "finance": ("finance", "financial", "accounting", "economy", "economics", "business", "investing"),
    "technology": ("technology", "tech", "it", "software", "engineering", "science", "computing"),
    "healthcare": ("healthcare", "health", "medical", "medicine", "pharma", "wellness"),
    "legal": ("legal", "law", "compliance", "regulatory", "policy"),
    "marketing": ("marketing", "sales", "advertising", "brand", "communications", "pr"),
    "human resources": ("human", "resources", "hr", "people", "hiring", "workforce", "employment"),
    "operations": ("operations", "ops", "logistics", "supply", "manufacturing", "production"),
    "customer feedback": ("customer", "feedback", "review", "reviews", "support", "service", "complaint"),
}

CATCH_ALL = frozenset({"other", "others", "misc", "miscellaneous", "general", "unknown", "uncategorized"})

ORG_SUFFIXES = _set("""
    inc inc. corp corp. corporation ltd ltd. llc plc gmbh ag sa group bank company co co. university institute
    agency foundation partners holdings technologies systems labs ventures capital airlines motors
""")
PERSON_TITLES = _set("mr mr. mrs mrs. ms ms. dr dr. prof prof. sir ceo cfo cto president chairman")
SPEECH_VERBS = _set("said says told wrote added explained noted")
LOCATION_CUES = _set("in at from across near to")
PLACES = _set("""
    europe asia africa america americas australia china japan india germany france spain italy uk britain england
    london paris berlin tokyo beijing shanghai madrid rome amsterdam dublin seattle boston chicago texas california
    york canada mexico brazil singapore korea sweden norway denmark netherlands switzerland ireland scotland
""")
MONTHS = _set("""
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
""")

STOPWORDS = _set("""
    a about above after again against all also am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how however i if in into is it its itself just me more most my myself no nor not
    now of off on once only or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    one two three us many much may might must shall yet still even though although since upon within without
    it's we're they're i'm i've we've don't didn't isn't wasn't can't won't let also per via new said says
""")
