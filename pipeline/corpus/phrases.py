"""Phrasing banks for the dialogue generator.

Each bank is a tuple of templates filled with `str.format(**slots)`. Banks are grouped by intent and, for
customer lines, by the affect they carry: the sentiment label of an utterance is a property of the phrasing
chosen, never random noise, so a classifier can learn it from the words. Frustrated and confused customer lines
are composed from several parts (opener x core x tail) to give thousands of distinct surface forms.
"""

from __future__ import annotations

# ---------------------------------------------------------------- openings
AGENT_GREETING = (
    "Thank you for calling {company}, my name is {agent_first}, how can I help you today?",
    "Good {daypart}, you're through to {company}, this is {agent_first}. How can I help?",
    "Hi, thanks for calling {company}. You're speaking with {agent_first}, what can I do for you?",
    "{company}, {agent_first} speaking, how may I help?",
    "Hello and welcome to {company} customer support. My name's {agent_first}. What can I help you with today?",
    "Thanks for holding, you've reached {company}. I'm {agent_first}, how can I help?",
    "Good {daypart}, {company} support, {agent_first} here. What's the reason for your call today?",
    "Hi there, this is {agent_first} at {company}. How can I help you?",
)
CUSTOMER_HELLO_FIRST = (
    "Hello?", "Hello? Hi.", "Hello, is anyone there?", "Hi, hello? Can you hear me?", "Hello, hi, um, hello?",
    "Yes, hello?", "Hi, is this {company}?",
)
AGENT_ANSWER_HELLO = (
    "Hi there, yes, sorry about that, you're through to {company}. This is {agent_first}, how can I help?",
    "Hello, yes I can hear you. This is {agent_first} from {company}, what can I do for you?",
    "Hi, yes, this is {company}, my name is {agent_first}. How can I help today?",
    "Hello, sorry, the line was quiet for a second there. {agent_first} at {company}, how can I help?",
)
CUSTOMER_GREETING_PREFIX = (
    "Hi {agent_first}.", "Hi, yes.", "Hello.", "Hi there.", "Oh, hi.", "Yeah, hi.", "Good {daypart}.", "Hi, thanks.",
    "", "", "",
)
CUSTOMER_INTRO = (   # each followed by a clause from PROBLEM_CORE
    "I'm calling because", "I've got a problem,", "I was hoping you could help,", "So basically",
    "I need some help,", "I'm ringing because", "Quick question,", "The reason I'm calling is",
    "It's about my account,", "So, the thing is,",
)

# ---------------------------------------------------------------- problem statements (neutral facts)
PROBLEM_CORE = {
    "billing": (
        "my bill this month came to {amount}, and it's normally about {amount2}",
        "there's a charge of {amount} on my bill that I don't recognise",
        "I think I've been charged twice for {month}",
        "my direct debit went out for {amount}, which is a lot more than usual",
        "there's a late payment fee on my account but I paid on time",
        "my bill went up to {amount} and I'm not sure why",
        "I was billed for a service I cancelled back in {month}",
        "the discount I was promised isn't showing on my bill",
    ),
    "technical_fault": (
        "my internet keeps dropping out every few minutes",
        "the broadband has been down since {weekday}",
        "my phone has no signal at all when I'm at home",
        "the TV box just shows error code {errcode}",
        "the wifi is really slow, like {speed} megabits",
        "I can't make any calls from my mobile",
        "the light on the router is flashing red",
        "my landline has a crackle on it and calls keep cutting off",
    ),
    "account_access": (
        "I can't log into my online account",
        "the app keeps saying my password is wrong, even though I reset it",
        "I've been locked out of my account",
        "I never get the verification code when I try to sign in",
        "my account says it's been suspended",
        "I changed my email address and now I can't get into the account",
    ),
    "delivery": (
        "I ordered a new {device} on {date} and it still hasn't arrived",
        "the tracking says my order was delivered but there's nothing here",
        "order number {order} was supposed to come on {weekday}",
        "the {device} I ordered arrived damaged",
        "I got the wrong item, I ordered a {device}",
        "the delivery was booked for {date} and nobody turned up",
    ),
    "refund": (
        "I sent the {device} back on {date} and I haven't had my refund",
        "I was told I'd get a refund of {amount}",
        "I cancelled an add-on and was promised {amount} back",
        "my refund seems to have gone to an old card",
        "I was overcharged {amount} and I'd like it refunded",
    ),
    "plan_change": (
        "I'd like to change to a cheaper plan",
        "I want to upgrade to the {plan} plan",
        "I'm thinking about moving to the {plan} package",
        "I want to add another line to my account",
        "I need to downgrade, I'm paying {amount} a month at the moment",
        "my contract is ending and I want to see what plans you have",
    ),
    "cancellation": (
        "I want to cancel my contract",
        "I'm moving house and need to cancel my service",
        "I'd like to close my account",
        "I want to cancel the {plan} add-on",
        "I'd like to cancel, I've found a better deal elsewhere",
    ),
}

# Mood wrappers around the problem statement. calm -> neutral, annoyed -> negative, angry -> frustrated.
NEGATIVE_TAIL = (
    "and honestly it's pretty annoying.", "which isn't great.", "and I'm not very happy about it.",
    "and it's a real pain.", "and to be honest I'm quite disappointed.", "which is really inconvenient for me.",
    "and that's not what I expected from you.", "and it's been a bit of a nightmare.", "and it's really bad timing.",
    "and I'm not pleased.",
)
FRUSTRATED_OPENER = (
    "Look,", "Honestly,", "Right, listen,", "I'm sorry but", "Okay, I'm really fed up now,", "This is ridiculous,",
    "I've had enough of this,", "I'm at the end of my rope here,", "Seriously,", "I can't believe this,",
    "I'm so sick of this,", "This is absolutely unacceptable,", "I'm losing my patience,",
    "I'm really angry about this,", "You know what,", "I'm beyond frustrated,",
)
FRUSTRATED_TAIL = (
    "and nobody seems to care.", "and I've wasted hours on this.", "and I'm sick of being passed around.",
    "and it's completely ridiculous.", "and I'm fed up with it.", "this is just unacceptable.",
    "and frankly it's a joke.", "and I'm absolutely furious.", "and I shouldn't have to keep chasing you.",
    "and I'm really losing my patience.", "and it's driving me mad.", "what am I even paying you for?",
    "and I'm this close to leaving.", "I've had it with this company.",
)

# ---------------------------------------------------------------- customer risk cues
PRIOR_CONTACT = (
    "I already called about this {prev_when}.",
    "I spoke to someone {prev_when} about this.",
    "this is the {nth} time I'm calling about this.",
    "I rang {prev_when} and was told it would be sorted.",
    "I was on the phone with you {prev_when} about the same thing.",
    "I called in {prev_when} and they gave me reference {prev_ref}.",
    "your colleague told me {prev_when} that it would be fixed.",
    "I went through all of this with you {prev_when}.",
    "I phoned {prev_when}, same problem.",
    "I had a call with one of your agents {prev_when}.",
)
PRIOR_CONTACT_FIRST_CALL = (   # a prior contact that is not a repeat of this issue: keeps the cue from being a giveaway
    "I tried to call yesterday but I gave up after waiting ages.",
    "I called last month about something else, but this is new.",
    "I was on the chat with you earlier but it cut off.",
)
PROBLEM_PERSISTS = {
    "billing": ("and I'm still being charged.", "and the charge is still there.", "and it's happened again this month."),
    "technical_fault": ("and it's still not working.", "and it keeps happening.", "and the problem is still there.",
                        "and it's doing it again.", "and nothing has changed."),
    "account_access": ("and I still can't get in.", "and I'm still locked out.", "and it's still not letting me log in."),
    "delivery": ("and it still hasn't turned up.", "and I still haven't got anything.", "and there's still no sign of it."),
    "refund": ("and I still haven't seen the money.", "and the refund still isn't there.", "and still nothing has come through."),
    "plan_change": ("and my plan still hasn't changed.", "and I'm still on the old price.", "and it still shows the old plan."),
    "cancellation": ("and I'm still being billed.", "and the account is still open.", "and it still hasn't been cancelled."),
}
PERSISTS_ANSWER = (   # in answer to a diagnostic question
    "Well, whatever I do, the problem is still there.",
    "It's still the same as before, nothing has changed.",
    "Look, it keeps happening, that's the whole point.",
    "The thing is, it's still not fixed.",
    "I've tried everything already and it's still the same.",
    "It came back again after last time.",
)
CONFUSION_NEXT_STEPS = (
    "So when will I hear back?",
    "Sorry, so what happens now?",
    "So do I need to do anything, or...?",
    "I'm not sure what the next step is.",
    "How long is that going to take?",
    "Wait, who's going to contact me?",
    "So, sorry, am I supposed to call back, or will you call me?",
    "And when will that actually be sorted?",
    "I don't really understand what happens next.",
    "Sorry, what am I meant to do now?",
    "So how will I know when it's done?",
    "Hang on, when exactly will that happen?",
    "So is someone going to ring me, or do I wait for an email?",
    "And if it doesn't work, what do I do then?",
    "So should I just wait, or call again?",
    "How long do I give it before I chase it up?",
    "Do I need to do something on my end, or is that it?",
    "Sorry, I missed that, when is it happening?",
)
CONFUSED_PREFIX = ("Sorry,", "Um, sorry,", "Hang on,", "Wait,", "Sorry, I'm a bit lost,", "Hmm,", "", "")
CONFUSED_CORE = (   # confusion that is not about next steps (no cue)
    "I don't quite follow.", "what do you mean by that?", "which number do you need?", "I'm not sure I understand.",
    "is that the account number or the customer number?", "where do I find that?", "which button is that?",
    "I don't know what that means.", "do you mean the app or the website?", "can you say that again?",
    "I'm confused, is that the same thing?", "what's a reference number?", "I don't see that option anywhere.",
    "I thought that was already done?", "does that mean it's cancelled or not?", "I'm not sure which one you mean.",
    "so is it my fault or yours?", "what's the difference between the two?", "I've lost track of what we did.",
    "why would it say that?", "does that include the fee or not?", "which email, the old one or the new one?",
    "I'm not following, sorry.", "where would I see that?",
)
ESCALATION_REQUEST = (
    "I want to speak to a manager.",
    "Can I talk to your supervisor, please?",
    "I'd like to make a formal complaint.",
    "Can you put me through to someone more senior?",
    "I want this escalated.",
    "I'd like to speak to someone who can actually sort this out.",
    "Put me through to your complaints department.",
    "I want to raise a complaint about this.",
)

# ---------------------------------------------------------------- identity checks
AGENT_ID_CHECK = (
    "Before we start, can I take your account number, please?",
    "Could I get the account number, please?",
    "Sure, first I just need to verify you. What's your account number?",
    "No problem. Can you confirm the account number for me?",
    "Okay, let me pull up your account. What's the account number?",
    "I can look into that. Could you give me your account number?",
)
CUSTOMER_ID_ANSWER = (
    "Sure, it's {account_spoken}.", "Yeah, it's {account_spoken}.", "Um, let me find it. Okay, it's {account_spoken}.",
    "The account number is {account_spoken}.", "It's {account_spoken}.",
    "I think it's {account_spoken}, hang on, yes, {account_spoken}.",
)
AGENT_ID_SECOND = (
    "Thanks. And can you confirm your date of birth?", "And the postcode on the account?",
    "Great, and your date of birth, please?", "Thank you. Just for security, what's the zip code on the account?",
    "And the phone number we have for you?",
)
CUSTOMER_ID_SECOND = {
    "birth": ("It's {birth_spoken}.", "{birth_spoken}.", "Yes, {birth_spoken}."),
    "postcode": ("It's {postcode_spoken}.", "{postcode_spoken}.", "Zip code is {postcode_spoken}."),
    "phone": ("It's {phone}.", "{phone}.", "The number is {phone}."),
}
AGENT_ID_CONFIRM = (
    "Thank you, {cust_first}, that's all verified.", "Perfect, thanks {cust_first}, I've got your account up.",
    "Great, that's you verified. Thanks.", "Lovely, thank you. I can see your account now.",
    "Thanks, {cust_title} {cust_last}. I've got everything I need.",
)

# ---------------------------------------------------------------- small talk
SMALL_TALK_AGENT = (
    "How's your day going so far?", "Lovely weather today, isn't it?", "Are you having a good week?",
    "Sorry about the wait today, it's been a busy morning.", "Hope you're keeping well.",
)
SMALL_TALK_CUSTOMER_POSITIVE = (
    "Oh, not bad, thanks for asking!", "Yeah, good, thank you. Nice to get a friendly voice.",
    "It's lovely out actually, I'm enjoying it.", "Pretty good, thanks! How about you?",
    "Not too bad at all, thanks.", "Oh, that's kind of you to ask. I'm doing fine.",
)
SMALL_TALK_CUSTOMER_NEGATIVE = (
    "Not great, to be honest.", "It's been a long week, honestly.", "Could be better.",
    "Well, it was going okay until this.",
)
SMALL_TALK_AGENT_REPLY = (
    "Glad to hear it.", "Ha, I know what you mean.", "I'm doing well, thanks.", "Let's see if we can make it better.",
)

# ---------------------------------------------------------------- diagnosis
AGENT_EMPATHY = (
    "I'm sorry to hear that, let's get it sorted for you.", "Okay, I understand. Let me take a look.",
    "I'm sorry about that. I'll do what I can.", "Right, I can see why you'd want that looked at.",
    "Thanks for explaining. Let's see what's going on.", "I completely understand, let me check.",
    "I apologise for the trouble. Let me have a look.",
)
_YES = ("Yes, that's right.", "Yeah.", "Yes, I did.", "Yep, I checked.")
_NO = ("No, I haven't.", "No, not that I know of.", "Nope.", "No.")
AGENT_DIAGNOSE = {   # (question, plausible answers)
    "billing": (
        ("Can you tell me which charge it is?", ("It's the one for {amount}.", "The {amount} one, from {month}.")),
        ("Which month's bill are we talking about?", ("{month}.", "The one from {month}, I think.")),
        ("Did you make any changes to the account recently?", _NO + ("I added a line in {month}, but that's it.",)),
        ("Have you had any extra usage this month?", _NO + ("Maybe a bit, but not {amount} worth.",)),
    ),
    "technical_fault": (
        ("Have you tried restarting the router?", ("Yes, I did that this morning.", "Yeah, twice.") + _NO),
        ("Is it all your devices or just one?", ("All of them, I think.", "Just the laptop.", "Everything.")),
        ("When did you first notice the problem?", ("About {days} days ago.", "On {weekday}.", "Since last week.")),
        ("Can you tell me what the lights on the box are doing?", ("One of them is flashing orange.", "They're all off.",
                                                                   "The last one is red.")),
    ),
    "account_access": (
        ("Are you using the app or the website?", ("The app.", "The website, on my laptop.", "Both, neither works.")),
        ("What happens when you try to sign in?", ("It just says error.", "It says the password is wrong.",
                                                   "It spins and then nothing.")),
        ("Is the email address on the account still correct?", _YES + ("I think so, I'm not sure.",)),
        ("Have you tried resetting the password?", ("Yes, twice.",) + _NO),
    ),
    "delivery": (
        ("Can you give me the order number?", ("Yes, it's {order}.", "It's {order}.", "Um, {order}.")),
        ("Have you checked with your neighbours?", ("Yes, nobody has it.",) + _NO),
        ("What does the tracking page say?", ("It says delivered.", "It says out for delivery, since {weekday}.")),
        ("When did you place the order?", ("On {date}.", "About {days} days ago.")),
    ),
    "refund": (
        ("When did you send the item back?", ("On {weekday}.", "About {days} days ago.")),
        ("Do you have the return receipt?", _YES + ("Somewhere, yes.",)),
        ("Which card did you originally pay with?", ("The one ending in {card4}.", "My debit card, ending {card4}.")),
        ("How much was the refund for?", ("{amount}.", "It should be {amount}.")),
    ),
    "plan_change": (
        ("What are you looking for from a new plan?", ("Something cheaper, really.", "More data.", "Just a better price.")),
        ("Roughly how much data do you use a month?", ("Not much, maybe ten gigs.", "A lot, we stream a lot.")),
        ("Do you want to keep your current number?", _YES),
        ("When would you like the change to start?", ("As soon as possible.", "From next month.")),
    ),
    "cancellation": (
        ("Can I ask why you're looking to cancel?", ("It's just too expensive.", "I'm moving abroad.",
                                                     "The service has been poor.")),
        ("When would you like the cancellation to take effect?", ("Straight away, please.", "From the end of the month.")),
        ("Is there anything we could do to keep you?", ("No, I've made up my mind.", "Not really, no.")),
        ("Are you aware of the notice period?", _YES + ("No, what is it?",)),
    ),
}

# ---------------------------------------------------------------- holds
AGENT_HOLD = (
    "Let me put you on a quick hold while I check that.", "Bear with me one moment, I'll just place you on hold.",
    "Can I put you on hold for a minute or two?", "I'm just going to check with my system, one moment please.",
    "Okay, give me a second while I look into this.", "Would you mind holding for a moment?",
)
AGENT_HOLD_RETURN = (
    "Thanks for holding, {cust_first}.", "Sorry to keep you waiting.", "Thank you for your patience.",
    "Okay, I'm back, thanks for waiting.", "Right, thanks for bearing with me.",
)

# ---------------------------------------------------------------- outcomes
AGENT_FIX = {
    "billing": ("I've removed the {amount} charge from your account.", "I've corrected the bill, so it's back to {amount2}.",
                "I've refunded the duplicate payment.", "I've applied the discount to your account."),
    "technical_fault": ("I've reset the line from our end and pushed a new configuration to your router.",
                        "I found a fault on the exchange and it's been cleared.",
                        "I've re-provisioned your service, it should come back up in a minute.",
                        "I've sent a signal refresh to your device."),
    "account_access": ("I've unlocked the account and sent you a new reset link.", "I've updated the email on the account.",
                       "I've lifted the suspension, it was a security flag.", "I've reset your two-step verification."),
    "delivery": ("I've arranged a replacement to be sent out today.", "I've found the parcel, it was at the local depot.",
                 "I've rebooked the delivery for {weekday}.", "I've issued a new order for the right item."),
    "refund": ("I've processed the refund of {amount}.", "I've found the return and released the refund.",
               "I've redirected the refund to your current card.", "I've approved the refund just now."),
    "plan_change": ("I've moved you onto the {plan} plan.", "I've added the new line to your account.",
                    "That's done, your new plan is set up.", "I've changed the plan, and the price drops to {amount}."),
    "cancellation": ("I've put the cancellation through.", "I've closed the account as of today.",
                     "I've removed the add-on.", "The cancellation is confirmed on our side."),
}
AGENT_PARTIAL = (
    "I've done part of it, but the rest needs another team.", "I've fixed the main issue, but there's still one thing outstanding.",
    "I can sort the charge today, but the credit will need approval.", "I've started the process, but it won't be complete today.",
    "I've made a change that should help, but I can't promise it fixes everything.",
    "I've logged it, and I've applied a temporary fix for now.",
)
AGENT_CANNOT = (   # negative agent lines
    "Unfortunately I can't do that from here.", "I'm afraid there's nothing more I can do today.",
    "I'm sorry, but our system won't let me change that.", "Unfortunately that's outside what I'm able to do.",
    "I'm afraid I can't see any fault on our side.", "Sadly the policy doesn't allow that.",
)
AGENT_ESCALATE = (
    "I'm going to pass this to our specialist team.", "I'll escalate this to my supervisor.",
    "I'm raising this with the complaints team now.", "I'll transfer this to the technical team.",
    "I've flagged this for our escalations team.", "Let me get a team leader to review this.",
)
AGENT_ACK_ESCALATION = (
    "I understand. I'll arrange that for you.", "Of course, I'll put that through.",
    "Okay, I hear you. I'll make sure this goes to a manager.", "That's absolutely your right, I'll log it now.",
    "I understand, let me try one more thing first.",
)

# ---------------------------------------------------------------- agent cues
AGENT_DEFERRAL = (
    "I'll have to check with my team.", "Someone will call you back about it.", "I'm not sure, to be honest.",
    "I can't say for certain.", "I'll need to look into it and get back to you.",
    "That's not something I can answer right now.", "Let me find out and someone will be in touch.",
    "I'd have to ask someone else about that.", "I don't know exactly, it depends on the other team.",
    "Hmm, I'm not a hundred percent sure how that works.",
)
VERIFY_FIX = {
    "billing": ("Can you refresh your account page and check the charge has gone?",
                "Could you have a look in the app and tell me if the new balance shows?"),
    "technical_fault": ("Could you check if it's working now?", "Can you try loading a web page for me while I'm on the line?",
                        "Is the light on the router green now?", "Can you try making a call now?"),
    "account_access": ("Can you try logging in again while I'm on the line?", "Could you check the reset email has arrived?"),
    "delivery": ("Can you check you've got the confirmation email for the new delivery?",
                 "Could you check the tracking page shows the new date?"),
    "refund": ("Can you see the pending refund on your account now?", "Could you check the refund shows in your app?"),
    "plan_change": ("Can you check the app shows the new plan?", "Could you confirm you've got the email with the new plan?"),
    "cancellation": ("Can you check you've received the cancellation email?", "Could you confirm the email came through?"),
}
CUSTOMER_VERIFIED = (   # positive
    "Oh yes, that's working now, thank you!", "Yes! That's done it, brilliant.", "Yep, I can see it now. Great.",
    "Oh perfect, it's there. Thanks so much.", "That's great, it's all fine now.", "Yes, fantastic, thank you.",
)
NEXT_STEPS_TIMEFRAME = (
    "You'll see the credit within {n} working days.", "An engineer will visit on {date} between 8 and 12.",
    "The replacement will arrive by {weekday}.", "You should get a confirmation email within 24 hours.",
    "It'll take effect from your next bill on {date}.", "The team will call you by {weekday} at the latest.",
    "The money will be back on your card within {n} to {n2} days.", "It should all be done by the end of {weekday}.",
)
REFERENCE_NUMBER = (
    "Your reference number is {ref}.", "Let me give you a reference: {ref}.",
    "If you need to call back, just quote reference {ref}.", "I'll give you a case number, it's {ref}.",
    "Your ticket number for this is {ref}.",
)
FOLLOWUP_OFFER = (
    "I'll give you a call on {weekday} to make sure it's all sorted.", "I'll follow up with you by email tomorrow.",
    "I've set a reminder to check in with you on {date}.", "I'll ring you back myself once it's done.",
    "I'll call you in a couple of days to check everything's okay.",
)
RECAP = (
    "So just to recap, {summary}.", "To summarise what we've done today, {summary}.", "Quick recap: {summary}.",
    "So, to go over everything, {summary}.",
)
RECAP_SUMMARY = {
    "resolved": ("I've fixed the issue and you've confirmed it's working", "the problem is sorted and nothing else is needed from you"),
    "partial": ("part of it is done and the rest is with the other team", "I've made a change and we're waiting on the final step"),
    "unresolved": ("I couldn't fix it today and it's been logged", "the issue is logged and under investigation"),
    "escalated": ("it's been escalated and a specialist will pick it up", "your complaint is logged and with a manager"),
}
AGENT_CLARIFY = (   # answer to a confused customer, no cue of its own
    "They'll be in touch with you.", "It's with the other team now.", "You don't need to do anything else for now.",
    "It should be fine from here.", "You'll get an update from us.",
)

# ---------------------------------------------------------------- reactions and mid-call affect
CUSTOMER_REACTION_NEUTRAL = (
    "Okay.", "Right, okay.", "Okay, fair enough.", "Alright then.", "I see.", "Okay, if that's the best you can do.",
)
CUSTOMER_REACTION_GRUDGING = ("Okay, if that's the best you can do.",)   # a neutral reaction that still rejects
CUSTOMER_REACTION_NEGATIVE = (
    "That's not really good enough.", "Well, that's disappointing.", "Hmm, I'm not happy with that.",
    "That's a shame.", "So I just have to wait, then.", "That's not what I was hoping to hear.",
    "I was really hoping you could fix it today.", "That's pretty poor, to be honest.",
)
CUSTOMER_POSITIVE = (
    "Oh great, thank you!", "That's brilliant, thanks so much.", "Perfect, that's really helpful.",
    "Lovely, thank you.", "Oh, that's great news.", "Fantastic, I appreciate it.", "Thanks, you've been really helpful.",
)

# Composed positive customer lines (opener + core + tail): thanks and relief come in many forms.
POSITIVE_OPENER = ("Oh great,", "Brilliant,", "Oh, lovely,", "Perfect,", "Fantastic,", "Oh wow,", "Great,",
                   "Oh, that's a relief,", "Amazing,", "Wonderful,", "Oh good,", "Excellent,")
POSITIVE_CORE = ("that's really helpful", "that's exactly what I needed", "you've made my day",
                 "I really appreciate that", "that's so much better", "that's sorted it", "that's great news",
                 "you've been a star", "I'm really pleased with that", "that was much easier than I expected",
                 "that's a weight off my mind", "I'm so glad that's fixed")
FIX_CONFIRMED_CORES = ("that's so much better", "that's sorted it", "I'm so glad that's fixed")   # fix_confirmed
POSITIVE_TAIL = ("thank you so much.", "thanks a lot.", "cheers.", "thanks for your help.", "I appreciate it.",
                 "thank you!", "you've been really kind.", "thanks for sorting it out.", "")

# ---------------------------------------------------------------- closing
AGENT_ANYTHING_ELSE = (
    "Is there anything else I can help you with today?", "Anything else I can do for you?",
    "Was there anything else?", "Is there anything more I can help with?",
)
# A negative closing doubts the outcome (`outcome_rejected`); CUSTOMER_CLOSING_FIXED lines carry `fix_confirmed`.
CUSTOMER_CLOSING = {
    "positive": ("No, that's everything, thank you so much!", "No, that's all. Thanks, you've been great.",
                 "That's it, thanks for your help!", "No, you've sorted it, thank you."),
    "neutral": ("No, that's it, thanks.", "No, that's all.", "I think that's everything.", "No, nothing else."),
    "negative": ("No. I just hope it actually gets fixed this time.", "No, that's it. Not very impressed though.",
                 "No. Let's hope someone actually calls.", "No, I'll wait and see, I suppose."),
    "frustrated": ("No. Honestly, I'm fed up with this.", "No, just get it sorted, please. I've had enough.",
                   "No. This has been a complete waste of my time.", "No, and I'm not happy at all."),
}
CUSTOMER_CLOSING_FIXED = ("No, you've sorted it, thank you.",)
AGENT_GOODBYE = (
    "Thank you for calling {company}, have a great day.", "Thanks {cust_first}, take care. Bye now.",
    "Thanks for your patience today. Goodbye.", "You're welcome. Have a lovely {daypart}.",
    "Thank you, goodbye.",
)
CUSTOMER_BYE = ("Bye.", "Thanks, bye.", "Bye bye.", "Okay, bye.", "Cheers, bye.")
BACKCHANNEL = ("Mm-hm.", "Okay.", "Right.", "Yeah.", "Uh-huh.", "Sure.", "Yep.")

DISFLUENCY_PREFIX = ("Um,", "Uh,", "So, um,", "Yeah, so", "Well,", "I mean,", "Er,", "Okay, so", "Right, um,")
