"""From NER mentions to what an analyst wants: linked entities, events and the story, for one article.

The one place the steps are put together, used alike by the tag task, ``newswire eval`` and the
benchmarks, so that what is measured is what runs.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from services.common.schema import Article, Mention, TaggedArticle
from services.extract.events import extract_events
from services.extract.gazetteer import Gazetteer
from services.extract.link import Linker
from services.extract.registry import Registry
from services.extract.stories import Stories
from services.extract.taggers import NerTagger


@dataclass
class Analyser:
    linker: Linker
    stories: Stories | None

    @classmethod
    def build(cls, gazetteer: Gazetteer, registry: Registry, stories: Stories | None) -> "Analyser":
        return cls(Linker(gazetteer, registry), stories)

    def analyse(self, article: Article, mentions: list[Mention], tagger: NerTagger) -> TaggedArticle:
        linked = self.linker.link(article.title, article.body_text, mentions)
        events = extract_events(
            article.title, article.body_text, article.published_at, linked.mentions, linked.entities
        )
        story_id = self.stories.assign(article, linked.entities, events) if self.stories else None
        return TaggedArticle(
            article=article,
            mentions=linked.mentions,
            entities=linked.entities,
            events=events,
            story_id=story_id,
            tagger=tagger.info,
            tagged_at=datetime.now(UTC),
        )

    def tag(self, article: Article, tagger: NerTagger) -> TaggedArticle:
        mentions = tagger.tag(article.title, "title") + tagger.tag(article.body_text, "body")
        return self.analyse(article, mentions, tagger)
